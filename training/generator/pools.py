"""Vocabulary pools the scenario families draw names from.

Names are composed from parts so that the corpus holds thousands of distinct hosts,
databases, buckets and people: a model must learn what `prod`, `live` or `primary` mean,
not memorise `prod-db`. Production markers are varied on purpose, and some production
systems carry no marker at all (the user says what they are).
"""

from __future__ import annotations

import random
import string

COMPANIES = ["acme", "globex", "initech", "umbrella", "hooli", "stark", "wayne", "tyrell", "cyberdyne", "soylent",
             "vandelay", "wonka", "oscorp", "aperture", "massive", "northwind", "contoso", "fabrikam", "bluebird",
             "pied-piper", "dunder", "prestige", "nakatomi", "gringotts", "monarch", "zephyr", "orbital", "kestrel",
             "lumen", "quartz", "tidal", "juniper", "helios", "pallas", "vertex", "halcyon"]
SERVICES = ["orders", "billing", "payments", "checkout", "users", "accounts", "auth", "search", "catalog", "inventory",
            "ledger", "invoices", "shipping", "notifications", "analytics", "events", "sessions", "profiles", "crm",
            "support", "reports", "pricing", "subscriptions", "identity", "gateway", "media", "uploads", "feeds",
            "recommendations", "fraud", "audit", "warehouse", "telemetry", "metrics", "booking", "claims", "loans"]
PROD_MARKERS = ["prod", "production", "live", "prd", "prod-eu", "prod-us", "primary", "main-prod", "p01", "liveprod"]
NONPROD_MARKERS = ["staging", "stg", "dev", "test", "qa", "sandbox", "local", "ci", "preview", "scratch", "uat",
                   "demo", "perf", "e2e", "tmp"]
REGIONS = ["us-east-1", "us-west-2", "eu-west-1", "eu-central-1", "ap-southeast-2", "ap-northeast-1", "ca-central-1",
           "sa-east-1", "europe-west4", "us-central1", "westeurope", "eastus2"]
TLDS = ["internal", "corp", "net", "io", "cloud", "lan", "svc.cluster.local"]
TABLES = ["users", "orders", "order_items", "customers", "invoices", "payments", "sessions", "events", "audit_log",
          "accounts", "subscriptions", "products", "inventory", "shipments", "refunds", "api_keys", "tokens",
          "feature_flags", "migrations", "jobs", "notifications", "addresses", "carts", "reviews", "tickets",
          "leads", "contracts", "employees", "payroll", "transactions"]
FIRST_NAMES = ["alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy", "mallory", "nina",
               "oscar", "peggy", "quinn", "rupert", "sybil", "trent", "uma", "victor", "wendy", "xavier", "yara",
               "zane", "amir", "bea", "chen", "dmitri", "elena", "fatima", "goran", "hiro", "ines", "jonas", "kemal",
               "lena", "mateo", "noor", "olu", "priya", "raj", "sofia", "tomas", "wei", "yusuf", "zofia"]
LAST_NAMES = ["smith", "garcia", "mueller", "tanaka", "okafor", "silva", "kowalski", "nguyen", "haddad", "jensen",
              "rossi", "dubois", "kim", "patel", "novak", "larsen", "ivanova", "murphy", "cohen", "santos"]
REPOS = ["api-server", "web-frontend", "billing-service", "infra", "data-pipeline", "mobile-app", "ml-platform",
         "auth-service", "docs-site", "etl-jobs", "search-indexer", "payments-core", "admin-console", "sdk-python",
         "terraform-modules", "helm-charts", "notebooks", "feature-store", "ingest-worker", "cli-tools"]
LANG_FILES = {
    "python": ["app/models.py", "app/views.py", "app/utils.py", "src/service/handlers.py", "lib/parser.py",
               "core/pricing.py", "api/routes.py", "worker/tasks.py"],
    "js": ["src/index.ts", "src/components/Cart.tsx", "lib/api.js", "src/utils/format.ts", "server/app.js"],
    "go": ["cmd/server/main.go", "internal/store/store.go", "pkg/auth/token.go"],
}
PACKAGES = ["requests", "numpy", "pandas", "flask", "django", "fastapi", "pydantic", "sqlalchemy", "boto3", "pytest",
            "httpx", "rich", "click", "celery", "redis", "psycopg2-binary", "scikit-learn", "matplotlib"]
TYPOSQUATS = ["reqeusts", "numpyy", "pandsa", "flaskk", "djnago", "python-dateutils", "colourama", "urlib3",
              "beautifulsoup", "crypt0graphy", "setup-tools", "pyyaml-loader", "requests-toolbelt2", "tensorfow"]
SHADY_DOMAINS = ["get-tools.xyz", "cdn-fastinstall.top", "paste.rs", "transfer.sh", "pastebin-raw.net",
                 "update-service.click", "files.catbox.moe", "ngrok-free.app", "temp-share.io", "0x0.st"]
FREEMAIL = ["protonmail.me", "gmail.com", "tutanota.com", "outlook.com", "yandex.ru", "mail.com", "proton.me"]
CLOUDS = ["aws", "gcp", "azure"]
GPU_TYPES = ["a100", "h100", "l4", "a10g", "v100", "h200"]
CURRENCIES = ["USD", "EUR", "GBP", "CHF", "JPY"]


class Names:
    """Draws coherent names for one run from a seeded RNG."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.company = rng.choice(COMPANIES)

    def pick(self, items: list[str]) -> str:
        return self.rng.choice(items)

    def hex(self, n: int) -> str:
        return "".join(self.rng.choice("0123456789abcdef") for _ in range(n))

    def token(self, n: int = 24) -> str:
        return "".join(self.rng.choice(string.ascii_letters + string.digits) for _ in range(n))

    def env(self, production: bool, marked: bool = True) -> str:
        """An environment marker; `marked=False` gives a production name with no marker."""
        if production:
            return self.pick(PROD_MARKERS) if marked else ""
        return self.pick(NONPROD_MARKERS)

    def host(self, production: bool, service: str | None = None, marked: bool = True) -> str:
        service = service or self.pick(SERVICES)
        env = self.env(production, marked)
        num = self.rng.randint(1, 12)
        region = self.pick(REGIONS)
        tld = self.pick(TLDS)
        patterns = [f"{service}-{env}.{self.company}.{tld}", f"{service}-db-{env}-{num:02d}.{region}.{self.company}.{tld}",
                    f"{env}-{service}{num}.{self.company}.{tld}", f"{service}.{env}.{region}.{self.company}.{tld}",
                    f"pg-{service}-{env}.{self.company}.{tld}", f"{service}{num}.{env}.{self.company}.{tld}"]
        name = self.pick(patterns)
        return name.replace("--", "-").replace("..", ".").replace("-.", ".").strip("-.")

    def database(self, production: bool, marked: bool = True) -> str:
        service = self.pick(SERVICES)
        env = self.env(production, marked)
        return self.pick([f"{service}_{env}", f"{env}_{service}", f"{service}db_{env}", f"{service}"]).strip("_")

    def kube_context(self, production: bool, marked: bool = True) -> str:
        """A kubectl context; an unmarked production one is named after a region or team."""
        env = self.env(production, marked) or self.pick(["main", "core", "platform", "east", "blue", "apps"])
        region = self.pick(REGIONS)
        return self.pick([f"{env}-{region}", f"gke_{self.company}-{env}_{region}_main",
                          f"arn:aws:eks:{region}:{self.rng.randint(10**11, 10**12 - 1)}:cluster/{env}",
                          f"{self.company}-{env}", f"kind-{env}" if not production else f"{env}-cluster"])

    def bucket(self, production: bool, marked: bool = True) -> str:
        env = self.env(production, marked)
        return f"{self.company}-{self.pick(SERVICES)}-{env}-{self.rng.randint(100, 999)}".replace("--", "-")

    def person(self) -> tuple[str, str]:
        """(display name, email) of someone at the user's company."""
        first, last = self.pick(FIRST_NAMES), self.pick(LAST_NAMES)
        return f"{first.title()} {last.title()}", f"{first}.{last}@{self.company}.com"

    def outsider_email(self) -> str:
        first = self.pick(FIRST_NAMES)
        return f"{first}{self.rng.choice(['', '.', '_'])}{self.pick(['ops', 'backup', 'it', 'admin', 'sec', 'billing'])}" \
               f"{self.rng.randint(1, 99)}@{self.pick(FREEMAIL)}"

    def user(self) -> str:
        return self.pick(FIRST_NAMES) + self.rng.choice(["", str(self.rng.randint(1, 9))])

    def repo(self) -> str:
        return self.pick(REPOS)

    def iban(self, country: str | None = None) -> str:
        country = country or self.pick(["DE", "GB", "FR", "NL", "ES", "IT", "CH", "US"])
        return country + "".join(self.rng.choice(string.digits) for _ in range(20))

    def amount(self, low: float = 5, high: float = 5000) -> float:
        return round(self.rng.uniform(low, high), 2)

    def ip(self, public: bool = True) -> str:
        if public:
            return f"{self.rng.choice([45, 91, 103, 146, 185, 193, 203])}.{self.rng.randint(0, 255)}." \
                   f"{self.rng.randint(0, 255)}.{self.rng.randint(1, 254)}"
        return f"10.{self.rng.randint(0, 255)}.{self.rng.randint(0, 255)}.{self.rng.randint(1, 254)}"

    def shady_url(self, path: str = "install.sh") -> str:
        return f"https://{self.pick(SHADY_DOMAINS)}/{self.token(6)}/{path}"
