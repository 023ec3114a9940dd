"""Package manager commands read into facts: operations, packages, sources, pinning, typos."""

from __future__ import annotations

import json

import pytest

from cbm.facts.base import Collector, Context
from cbm.facts.packages import MINERS, POPULAR_FILE, distance, package_facts, popular, read_spec, typo_of
from facts_helpers import argv_of, at, of, one


def run(cmd: str, context: Context | None = None) -> tuple[bool, list]:
    out = Collector(context)
    handled = package_facts(out, argv_of(cmd), "bashlex")
    return handled, out.facts


def test_pip_install_pinned_and_unpinned():
    cmd = "pip install requests==2.31.0 numpy"
    handled, facts = run(cmd)
    assert handled
    op = one(facts, "operation")
    assert (op.value, at(cmd, op), op.tags, op.parser) == ("install", "install", ("pip",), "bashlex")
    requests, numpy = one(facts, "package", "requests"), one(facts, "package", "numpy")
    assert at(cmd, requests) == "requests==2.31.0"
    assert {"pip", "pinned", "index"} <= set(requests.tags)
    assert {"pip", "unpinned", "index"} <= set(numpy.tags)
    assert at(cmd, numpy) == "numpy"


def test_version_specifiers_and_extras():
    cmd = "pip install 'flask>=2' 'pandas[excel]==2.1.0' 'django==4.*'"
    _, facts = run(cmd)
    assert "unpinned" in one(facts, "package", "flask").tags
    pandas = one(facts, "package", "pandas")
    assert "pinned" in pandas.tags and at(cmd, pandas) == "pandas[excel]==2.1.0"
    assert "unpinned" in one(facts, "package", "django").tags


@pytest.mark.parametrize("cmd,name,typo", [
    ("pip3 install reqeusts", "reqeusts", "requests"),
    ("pip install djnago", "djnago", "django"),
    ("pip install colourama", "colourama", "colorama"),
    ("pip install python-dateutils", "python-dateutils", "python-dateutil"),
    ("npm install expres", "expres", "express"),
    ("npm i @types/nodde", "@types/nodde", "@types/node"),
    ("apt-get install -y ngnix", "ngnix", "nginx"),
])
def test_typosquats_are_tagged(cmd, name, typo):
    _, facts = run(cmd)
    pkg = one(facts, "package", name)
    assert f"typo_of:{typo}" in pkg.tags
    assert at(cmd, pkg) == name


@pytest.mark.parametrize("cmd", [
    "pip install colorama numpy numba requests urllib3 boto3 botocore Django PyYAML scikit-learn",
    "pip install pytest-env hiredis tablib httpie six jwt",
    "npm install react react-dom lodash express axios chalk",
])
def test_real_popular_names_are_not_typos(cmd):
    _, facts = run(cmd)
    assert of(facts, "package")
    assert not [f for f in of(facts, "package") if any(t.startswith("typo_of:") for t in f.tags)]


def test_typo_check_normalises_pypi_names():
    assert typo_of("pypi", "PyYAML") is None
    assert typo_of("pypi", "python_dateutil") is None  # PEP 503: the same project as python-dateutil
    assert typo_of("pypi", "typing.extensions") is None
    assert typo_of("pypi", "urlib3") == "urllib3"
    assert typo_of("npm", "lodahs") == "lodash"
    assert typo_of("pypi", "sx") is None  # too short to judge
    assert typo_of("brew", "wgett") is None  # no list for this ecosystem


def test_distance_counts_a_swap_as_one_edit_and_stops_early():
    assert distance("reqeusts", "requests", 2) == 1
    assert distance("kitten", "sitting", 3) == 3
    assert distance("abc", "xyzxyz", 2) == 3  # bound + 1: certain to exceed
    assert distance("numpy", "numpy", 1) == 0


def test_extra_index_and_trusted_host():
    cmd = "pip install --index-url https://evil.example.com/simple --trusted-host evil.example.com foo"
    _, facts = run(cmd)
    op = one(facts, "operation")
    assert {"extra_index", "trusted_host"} <= set(op.tags)
    pkg = one(facts, "package", "foo")
    assert {"extra_index", "trusted_host", "index"} <= set(pkg.tags)
    dest = one(facts, "destination", "evil.example.com")
    assert at(cmd, dest) == "evil.example.com" and cmd.index("evil") == dest.span[0]
    host = one(facts, "host", "evil.example.com")
    assert "trusted_host" in host.tags and at(cmd, host) == "evil.example.com"


def test_default_index_is_not_extra():
    _, facts = run("pip install -i https://pypi.org/simple requests")
    assert "extra_index" not in one(facts, "package", "requests").tags
    assert not of(facts, "destination")


def test_git_source_pinned_by_tag():
    cmd = "pip install git+https://github.com/psf/requests.git@v2.31.0#egg=requests"
    _, facts = run(cmd)
    pkg = one(facts, "package", "requests")
    assert {"git", "pinned"} <= set(pkg.tags)
    assert at(cmd, pkg) == cmd.split()[-1]
    assert one(facts, "destination", "github.com")


def test_wheel_url_source():
    cmd = "pip install https://files.example.com/pkgs/mylib-1.0-py3-none-any.whl"
    _, facts = run(cmd)
    pkg = one(facts, "package", "mylib")
    assert {"url", "pinned"} <= set(pkg.tags)


def test_direct_reference():
    cmd = 'pip install "requests @ git+https://github.com/psf/requests"'
    _, facts = run(cmd)
    pkg = one(facts, "package", "requests")
    assert {"git", "unpinned"} <= set(pkg.tags)
    assert at(cmd, pkg) == "requests @ git+https://github.com/psf/requests"


def test_editable_and_requirements_file():
    cmd = "pip install -e . -r requirements.txt"
    _, facts = run(cmd)
    local = one(facts, "package", ".")
    assert {"editable", "local"} <= set(local.tags)
    assert not {"pinned", "unpinned"} & set(local.tags)
    req = [f for f in of(facts, "target") if "requirements_file" in f.tags]
    assert len(req) == 1 and at(cmd, req[0]) == "requirements.txt" and req[0].value == "requirements.txt"


def test_requirements_file_written_earlier_is_read():
    context = Context(files={"requirements.txt": "requests==2.31.0\n# a comment\nreqeusts\n-e .\n"})
    cmd = "pip install -r requirements.txt"
    _, facts = run(cmd, context)
    requests, typo = one(facts, "package", "requests"), one(facts, "package", "reqeusts")
    assert "pinned" in requests.tags and "requirements_file" in requests.tags
    assert "typo_of:requests" in typo.tags
    assert at(cmd, typo) == "requirements.txt"


def test_cryptominer_names():
    assert {"xmrig", "t-rex", "lolminer", "phoenixminer"} <= MINERS
    cmd = "uv pip install xmrig"
    _, facts = run(cmd)
    op = one(facts, "operation")
    assert (op.value, at(cmd, op), op.tags) == ("install", "pip install", ("uv",))
    assert "cryptominer" in one(facts, "package", "xmrig").tags
    _, facts = run("npm i -g xmrig")
    assert {"cryptominer", "global"} <= set(one(facts, "package", "xmrig").tags)


def test_uv_add_and_poetry_versions():
    cmd = "uv add httpx fastapi@0.110.0"
    _, facts = run(cmd)
    assert "pinned" in one(facts, "package", "fastapi").tags
    assert "unpinned" in one(facts, "package", "httpx").tags
    _, facts = run("poetry add requests@^2.31")
    assert "unpinned" in one(facts, "package", "requests").tags


def test_conda_channels_and_pins():
    _, facts = run("conda install -c conda-forge numpy=1.26 -y")
    pkg = one(facts, "package", "numpy")
    assert {"conda", "pinned"} <= set(pkg.tags) and "extra_index" not in pkg.tags
    _, facts = run("conda install -c evilchannel pkg")
    assert "extra_index" in one(facts, "package", "pkg").tags


def test_npm_global_pins_and_ranges():
    cmd = "npm install -g lodash@4.17.21 react-dom@^18.2.0 left-pad@latest"
    _, facts = run(cmd)
    op = one(facts, "operation")
    assert op.tags == ("npm", "global") and at(cmd, op) == "install"
    lodash = one(facts, "package", "lodash")
    assert {"pinned", "global", "index"} <= set(lodash.tags) and at(cmd, lodash) == "lodash@4.17.21"
    assert "unpinned" in one(facts, "package", "react-dom").tags
    assert "unpinned" in one(facts, "package", "left-pad").tags


def test_npm_git_and_local_sources():
    cmd = "npm install user/repo#abc1234 ./local-pkg github:acme/tool"
    _, facts = run(cmd)
    assert {"git", "pinned"} <= set(one(facts, "package", "repo").tags)
    assert "local" in one(facts, "package", "./local-pkg").tags
    assert {"git", "unpinned"} <= set(one(facts, "package", "tool").tags)
    assert [f for f in of(facts, "target") if f.value == "./local-pkg"]


def test_npx_executes_only_the_package():
    cmd = "npx -y create-react-app my-app --template typescript"
    handled, facts = run(cmd)
    assert handled
    op = one(facts, "operation")
    assert (op.value, at(cmd, op)) == ("execute", "npx")
    pkg = one(facts, "package")
    assert pkg.value == "create-react-app" and "executed" in pkg.tags
    cmd = "npx -p @angular/cli ng new app"
    _, facts = run(cmd)
    assert one(facts, "package").value == "@angular/cli"


def test_private_registry():
    cmd = "npm install --registry http://10.0.0.5:4873 internal-lib"
    _, facts = run(cmd)
    assert "extra_index" in one(facts, "package", "internal-lib").tags
    host = one(facts, "host", "10.0.0.5")
    assert "raw_ip" in host.tags and at(cmd, host) == "10.0.0.5"


def test_yarn_and_pnpm():
    cmd = "yarn global add typescript"
    _, facts = run(cmd)
    op = one(facts, "operation")
    assert at(cmd, op) == "global add" and "global" in op.tags
    _, facts = run("pnpm add -D vitest")
    assert one(facts, "package", "vitest")
    handled, facts = run("yarn")
    assert handled and one(facts, "operation").value == "install" and not of(facts, "package")


def test_script_runs_and_unknown_verbs():
    handled, facts = run("yarn build")
    assert not handled and facts == []
    handled, facts = run("npm run build")
    assert handled and one(facts, "operation").value == "execute"
    handled, facts = run("npm config get prefix")
    assert not handled and facts == []
    handled, facts = run("ls -la")
    assert not handled and facts == []


def test_gem_cargo_go_versions():
    _, facts = run("gem install rails -v 7.1.2")
    assert {"gem", "pinned"} <= set(one(facts, "package", "rails").tags)
    _, facts = run("cargo install ripgrep --version 14.1.0")
    assert "pinned" in one(facts, "package", "ripgrep").tags
    cmd = "cargo install --git https://github.com/x/tool --rev abc1234"
    _, facts = run(cmd)
    tool = one(facts, "package", "tool")
    assert {"git", "pinned"} <= set(tool.tags)
    _, facts = run("go install golang.org/x/tools/gopls@v0.14.2")
    assert "pinned" in one(facts, "package", "golang.org/x/tools/gopls").tags
    _, facts = run("go install github.com/x/y@latest")
    assert "unpinned" in one(facts, "package", "github.com/x/y").tags


def test_apt_pins():
    cmd = "apt-get install -y curl=7.81.0-1ubuntu1 git"
    _, facts = run(cmd)
    curl = one(facts, "package", "curl")
    assert {"apt", "pinned"} <= set(curl.tags) and at(cmd, curl) == "curl=7.81.0-1ubuntu1"
    assert "unpinned" in one(facts, "package", "git").tags


def test_yum_unsigned_url_package():
    cmd = "yum install -y --nogpgcheck https://x.example.com/pkg-1.2-1.x86_64.rpm"
    _, facts = run(cmd)
    assert "unsigned" in one(facts, "operation").tags
    pkg = one(facts, "package", "pkg")
    assert {"url", "unsigned"} <= set(pkg.tags)


def test_pacman_option_verbs():
    cmd = "pacman -Syu --noconfirm neovim"
    _, facts = run(cmd)
    op = one(facts, "operation")
    assert (op.value, at(cmd, op), op.tags) == ("install", "-Syu", ("pacman", "upgrade"))
    cmd = "pacman -Rns vim"
    _, facts = run(cmd)
    assert "uninstall" in one(facts, "operation").tags


def test_brew():
    cmd = "brew install wget python@3.11"
    _, facts = run(cmd)
    assert "pinned" in one(facts, "package", "python").tags
    cmd = "brew uninstall --force node"
    _, facts = run(cmd)
    assert "uninstall" in one(facts, "operation").tags
    assert at(cmd, one(facts, "flag", "force")) == "--force"


def test_uninstall_is_install_tagged_uninstall():
    cmd = "pip uninstall -y requests"
    _, facts = run(cmd)
    op = one(facts, "operation")
    assert (op.value, at(cmd, op), op.tags) == ("install", "uninstall", ("pip", "uninstall"))
    assert "uninstall" in one(facts, "package", "requests").tags
    assert at(cmd, one(facts, "flag", "auto_approve")) == "-y"
    _, facts = run("npm uninstall lodash")
    assert "uninstall" in one(facts, "operation").tags
    _, facts = run("apt-get purge -y postgresql")
    assert "uninstall" in one(facts, "package", "postgresql").tags


def test_other_verbs():
    assert one(run("pip list")[1], "operation").value == "list"
    assert one(run("cargo build --release")[1], "operation").value == "build"
    assert one(run("go test ./...")[1], "operation").value == "test"
    _, facts = run("pip download requests -d /tmp/x")
    assert one(facts, "operation").value == "network_fetch" and one(facts, "package", "requests")


def test_index_configuration():
    cmd = "npm config set registry https://evil.example.com/"
    handled, facts = run(cmd)
    op = one(facts, "operation")
    assert handled and op.value == "write" and {"config", "extra_index"} <= set(op.tags)
    assert one(facts, "destination", "evil.example.com")
    _, facts = run("pip config set global.index-url https://evil.example.com/simple")
    assert "extra_index" in one(facts, "operation").tags


def test_python_dash_m_pip_and_versioned_pip():
    cmd = "python3 -m pip install requests"
    _, facts = run(cmd)
    assert one(facts, "package", "requests")
    _, facts = run("pip3.11 install --break-system-packages ansible")
    assert "break_system_packages" in one(facts, "package", "ansible").tags


def test_each_package_has_one_source():
    for cmd in ["pip install a==1 b git+https://h/x.git ./c https://h/d-1.0.tar.gz",
                "npm i e@1.2.3 f u/g ./h", "cargo install i", "gem install j"]:
        for f in of(run(cmd)[1], "package"):
            assert len({"index", "url", "git", "local"} & set(f.tags)) == 1, f
            assert len({"pinned", "unpinned"} & set(f.tags)) <= 1, f


def test_read_spec():
    assert read_spec("pypi", "Django==4.2.1").pinned
    assert read_spec("npm", "@scope/pkg@1.0.0").name == "@scope/pkg"
    assert read_spec("npm", "react@18").pinned is False  # a major version alone is a range
    assert read_spec("apt", "nginx/bookworm").name == "nginx"


def test_popular_list_ships_beside_the_module():
    raw = json.loads(POPULAR_FILE.read_text())
    assert len(raw["pypi"]) >= 250 and len(raw["npm"]) >= 250
    assert {"apt", "gem", "cargo"} <= set(raw)
    names = popular()
    assert {"colorama", "numpy", "numba", "requests", "urllib3", "boto3", "setuptools", "django", "flask"} \
        <= set(names["pypi"])
    assert {"react", "lodash", "express", "axios", "chalk"} <= set(names["npm"])
