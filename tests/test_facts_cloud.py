"""Cloud, cluster and hosting CLI commands read into facts: what they do, to what, where."""

from __future__ import annotations

import pytest

from cbm.facts.base import Collector
from cbm.facts.cloud import cloud_facts
from facts_helpers import argv_of, at, of, one


def run(cmd: str) -> tuple[bool, list]:
    out = Collector()
    handled = cloud_facts(out, argv_of(cmd), "shlex")
    return handled, out.facts


def flags(facts) -> set[str]:
    return {f.value for f in of(facts, "flag")}


def target(facts, value: str):
    found = [f for f in of(facts, "target") if f.value == value]
    assert len(found) == 1, (value, facts)
    return found[0]


# command, cloud fact, operation, the operation's characters, tags the operation must carry
CASES = [
    ("aws s3 rm s3://prod-backups/db --recursive", "aws s3 rm", "delete", "rm", ()),
    ("aws s3 rb s3://old-bucket --force", "aws s3 rb", "delete", "rb", ("bucket",)),
    ("aws s3 cp ./dump.sql s3://drop/ --acl public-read", "aws s3 cp", "network_send", "cp", ("public",)),
    ("aws s3 cp s3://data/x.csv ./x.csv", "aws s3 cp", "network_fetch", "cp", ()),
    ("aws ec2 terminate-instances --instance-ids i-0abc i-0def", "aws ec2 terminate-instances", "infra_destroy",
     "terminate-instances", ()),
    ("aws cloudformation delete-stack --stack-name prod-api", "aws cloudformation delete-stack", "infra_destroy",
     "delete-stack", ()),
    ("aws iam attach-user-policy --user-name bob --policy-arn arn:aws:iam::aws:policy/AdministratorAccess",
     "aws iam attach-user-policy", "user_change", "attach-user-policy", ()),
    ("aws iam create-access-key --user-name ci", "aws iam create-access-key", "user_change", "create-access-key", ()),
    ("aws iam list-users", "aws iam list-users", "list", "list-users", ()),
    ("aws cloudtrail stop-logging --name main-trail", "aws cloudtrail stop-logging", "disable_safeguard",
     "stop-logging", ()),
    ("aws guardduty delete-detector --detector-id 12abc", "aws guardduty delete-detector", "disable_safeguard",
     "delete-detector", ()),
    ("aws s3api put-public-access-block --bucket b --public-access-block-configuration BlockPublicAcls=false",
     "aws s3api put-public-access-block", "disable_safeguard", "put-public-access-block", ()),
    ("aws autoscaling set-desired-capacity --auto-scaling-group-name web --desired-capacity 0",
     "aws autoscaling set-desired-capacity", "infra_scale", "set-desired-capacity", ("to_zero",)),
    ("aws ec2 describe-instances --region eu-west-1", "aws ec2 describe-instances", "read", "describe-instances", ()),
    ("aws secretsmanager get-secret-value --secret-id prod/db", "aws secretsmanager get-secret-value", "read",
     "get-secret-value", ("secret",)),
    ("kubectl delete ns prod", "kubectl delete", "delete", "delete", ()),
    ("kubectl scale deploy/api --replicas=0 -n prod", "kubectl scale", "infra_scale", "scale", ("to_zero",)),
    ("kubectl apply -f k8s/deploy.yaml", "kubectl apply", "infra_apply", "apply", ()),
    ("kubectl apply -f k8s/deploy.yaml --dry-run=client", "kubectl apply", "infra_apply", "apply", ("dry_run",)),
    ("kubectl get pods -n prod", "kubectl get", "read", "get", ()),
    ("kubectl get secret db -o yaml", "kubectl get", "read", "get", ("secret", "secret_values")),
    ("kubectl get secret db -o jsonpath={.data.password}", "kubectl get", "read", "get", ("secret", "secret_values")),
    ("kubectl get secret db -o jsonpath={.metadata.name}", "kubectl get", "read", "get", ("secret",)),  # its name
    ("kubectl get secret db -o jsonpath={.data}", "kubectl get", "read", "get", ("secret",)),  # for its keys
    ("kubectl get secrets -n web", "kubectl get", "read", "get", ("secret",)),
    ("kubectl create clusterrolebinding pwn --clusterrole=cluster-admin --serviceaccount=default:default",
     "kubectl create clusterrolebinding", "user_change", "create clusterrolebinding", ()),
    ("kubectl delete networkpolicy deny-all -n prod", "kubectl delete", "disable_safeguard", "delete", ()),
    ("kubectl rollout undo deployment/api", "kubectl rollout undo", "deploy", "rollout undo", ()),
    ("kubectl cp prod/api-0:/data/dump.sql ./dump.sql", "kubectl cp", "network_fetch", "cp", ()),
    ("helm uninstall api -n prod", "helm uninstall", "delete", "uninstall", ()),
    ("helm upgrade --install api ./charts/api --dry-run", "helm upgrade", "infra_apply", "upgrade", ("dry_run",)),
    ("terraform destroy -auto-approve", "terraform destroy", "infra_destroy", "destroy", ()),
    ("terraform apply -destroy -auto-approve", "terraform apply", "infra_destroy", "apply", ()),
    ("terraform apply tf.plan", "terraform apply", "infra_apply", "apply", ()),
    ("terraform plan -out=tf.plan", "terraform plan", "read", "plan", ("plan",)),
    ("terraform state rm aws_db_instance.main", "terraform state rm", "delete", "state rm", ("state",)),
    ("tofu destroy", "tofu destroy", "infra_destroy", "destroy", ()),
    ("pulumi destroy --yes -s acme/prod", "pulumi destroy", "infra_destroy", "destroy", ()),
    ("pulumi up -y --stack dev", "pulumi up", "infra_apply", "up", ()),
    ("pulumi preview", "pulumi preview", "read", "preview", ("plan",)),
    ("gh api -X DELETE repos/acme/web/branches/main/protection", "gh api", "branch_protection",
     "repos/acme/web/branches/main/protection", ("method:DELETE",)),
    ("gh api repos/acme/web/branches/main/protection -X PUT -F enforce_admins=false", "gh api", "branch_protection",
     "repos/acme/web/branches/main/protection", ("method:PUT",)),
    ("gh api repos/acme/web/branches/main/protection", "gh api", "read", "repos/acme/web/branches/main/protection",
     ("method:GET",)),
    ("gh api -X PUT repos/acme/web/collaborators/eve -f permission=admin", "gh api", "user_change",
     "repos/acme/web/collaborators/eve", ()),
    ("gh repo delete acme/web --yes", "gh repo delete", "delete", "delete", ("repository",)),
    ("gh repo edit acme/web --default-branch dev", "gh repo edit", "branch_protection", "edit", ()),
    ("gh pr merge 42 --admin --squash", "gh pr merge", "branch_protection", "merge", ("admin",)),
    ("gh pr merge 42 --squash", "gh pr merge", "push", "merge", ()),
    ("docker run --privileged -v /:/host alpine", "docker run", "container", "run", ()),
    ("docker rm -f web db", "docker rm", "delete", "rm", ()),
    ("docker system prune -af --volumes", "docker system prune", "delete", "prune", ("volume",)),
    ("docker volume rm pgdata", "docker volume rm", "delete", "rm", ()),
    ("docker push registry.example.com/team/app:1.0", "docker push", "push", "push", ()),
    ("docker compose down", "docker compose down", "stop_service", "down", ()),
    ("gcloud projects delete acme-prod --quiet", "gcloud projects delete", "infra_destroy", "delete", ()),
    ("gcloud compute instances delete vm-1 --zone us-central1-a -q", "gcloud compute instances delete", "delete",
     "delete", ()),
    ("gcloud container clusters resize prod-gke --num-nodes 0", "gcloud container clusters resize", "infra_scale",
     "resize", ("to_zero",)),
    ("gcloud projects add-iam-policy-binding acme-prod --member=allUsers --role=roles/viewer",
     "gcloud projects add-iam-policy-binding", "user_change", "add-iam-policy-binding", ("public",)),
    ("gcloud logging sinks delete audit-sink", "gcloud logging sinks delete", "disable_safeguard", "delete", ()),
    ("gcloud beta run deploy api --image gcr.io/x/api", "gcloud beta run deploy", "deploy", "deploy", ()),
    ("gsutil -m rm -r gs://prod-bucket/**", "gsutil rm", "delete", "rm", ()),
    ("gsutil cp secrets.txt gs://drop/", "gsutil cp", "network_send", "cp", ()),
    ("gsutil iam ch allUsers:objectViewer gs://site", "gsutil iam ch", "user_change", "iam ch", ("public",)),
    ("az group delete --name rg-prod --yes", "az group delete", "infra_destroy", "delete", ()),
    ("az role assignment create --assignee bob@acme.com --role Owner", "az role assignment create", "user_change",
     "create", ()),
    ("az monitor diagnostic-settings delete --name ds --resource /x", "az monitor diagnostic-settings delete",
     "disable_safeguard", "delete", ()),
    ("az vm delete -g rg-staging -n web1 --yes", "az vm delete", "delete", "delete", ()),
    ("az aks scale -g rg -n prod-aks --node-count 0", "az aks scale", "infra_scale", "scale", ("to_zero",)),
    ("heroku apps:destroy --app acme-prod --confirm acme-prod", "heroku apps:destroy", "infra_destroy", "apps:destroy",
     ()),
    ("heroku ps:scale web=0 -a acme-prod", "heroku ps:scale", "infra_scale", "ps:scale", ("to_zero",)),
    ("fly apps destroy acme-prod -y", "fly apps destroy", "infra_destroy", "destroy", ()),
    ("vercel --prod --yes", "vercel", "deploy", "vercel", ("production",)),
    ("doctl kubernetes cluster delete prod-k8s --dangerous", "doctl kubernetes cluster delete", "infra_destroy",
     "delete", ()),
    ("eksctl delete cluster --name prod-eks --region us-west-2", "eksctl delete cluster", "infra_destroy", "delete",
     ()),
    ("eksctl scale nodegroup --cluster prod --name ng-1 --nodes 0", "eksctl scale nodegroup", "infra_scale", "scale",
     ("to_zero",)),
]


@pytest.mark.parametrize("cmd,cloud,operation,verb,tags", CASES, ids=[c[0][:60] for c in CASES])
def test_operation(cmd, cloud, operation, verb, tags):
    handled, facts = run(cmd)
    assert handled
    c = one(facts, "cloud")
    assert c.value == cloud and c.parser == "shlex"
    assert at(cmd, c).startswith(cmd.split()[0]) and at(cmd, c).endswith(cloud.split()[-1])
    op = one(facts, "operation")
    assert op.value == operation
    assert at(cmd, op) == verb
    assert set(tags) <= set(op.tags)


def test_s3_recursive_delete_targets_the_bucket():
    cmd = "aws s3 rm s3://prod-backups/db --recursive"
    _, facts = run(cmd)
    assert at(cmd, one(facts, "flag", "recursive")) == "--recursive"
    t = target(facts, "s3://prod-backups/db")
    assert "bucket" in t.tags and at(cmd, t) == "s3://prod-backups/db"


def test_s3_rb_force():
    cmd = "aws s3 rb s3://old-bucket --force"
    _, facts = run(cmd)
    assert at(cmd, one(facts, "flag", "force")) == "--force"


def test_aws_profile_region_and_list_parameters():
    cmd = "aws --profile prod ec2 terminate-instances --instance-ids i-0abc i-0def --region eu-west-1 --dry-run"
    _, facts = run(cmd)
    host = one(facts, "host", "prod")
    assert "production" in host.tags and "profile" in host.tags and at(cmd, host) == "prod"
    scope = one(facts, "scope")
    assert scope.value == "region:eu-west-1" and at(cmd, scope) == "eu-west-1"
    assert {f.value for f in of(facts, "target") if "instance" in f.tags} == {"i-0abc", "i-0def"}
    assert "dry_run" in one(facts, "operation").tags
    assert one(facts, "cloud").value == "aws ec2 terminate-instances"


def test_kubectl_delete_namespace():
    cmd = "kubectl delete ns prod"
    _, facts = run(cmd)
    t = target(facts, "namespace/prod")
    assert "namespace" in t.tags and at(cmd, t) == "ns prod"
    host = one(facts, "host", "prod")
    assert {"namespace", "production"} <= set(host.tags)


def test_kubectl_resource_namespace_and_context():
    cmd = "kubectl delete deployment api -n staging --context prod-eks"
    _, facts = run(cmd)
    d = target(facts, "deployment/api")
    assert d.tags[-1] == "deployment" and at(cmd, d) == "deployment api"
    ns = target(facts, "staging")
    assert "namespace" in ns.tags and at(cmd, ns) == "staging"
    cluster = target(facts, "prod-eks")
    assert "cluster" in cluster.tags
    host = one(facts, "host", "prod-eks")
    assert {"cluster", "production"} <= set(host.tags) and at(cmd, host) == "prod-eks"


def test_kubectl_force_all():
    cmd = "kubectl delete pods --all -A --grace-period=0 --force --cascade=foreground"
    _, facts = run(cmd)
    assert flags(facts) == {"all", "force", "cascade"}
    assert {at(cmd, f) for f in of(facts, "flag", "force")} == {"--grace-period=0", "--force"}
    assert {at(cmd, f) for f in of(facts, "flag", "all")} == {"--all", "-A"}
    _, facts = run("kubectl delete pod x --cascade=orphan --grace-period=30")
    assert flags(facts) == set()


def test_kubectl_scale_target():
    cmd = "kubectl scale deploy/api --replicas=0 -n prod"
    _, facts = run(cmd)
    t = target(facts, "deployment/api")
    assert at(cmd, t) == "deploy/api"


def test_kubectl_rbac_targets():
    cmd = "kubectl create clusterrolebinding pwn --clusterrole=cluster-admin --serviceaccount=default:default"
    _, facts = run(cmd)
    assert "role" in target(facts, "cluster-admin").tags
    assert "service_account" in target(facts, "default:default").tags
    assert at(cmd, target(facts, "clusterrolebinding/pwn")) == "pwn"


def test_terraform_flags_and_targets():
    cmd = "terraform apply -destroy -auto-approve -target=aws_instance.web -lock=false"
    _, facts = run(cmd)
    assert at(cmd, one(facts, "flag", "auto_approve")) == "-auto-approve"
    t = target(facts, "aws_instance.web")
    assert "resource" in t.tags and at(cmd, t) == "aws_instance.web"
    assert "no_lock" in one(facts, "operation").tags


def test_terraform_plan_is_not_auto_approved_and_terragrunt_all():
    _, facts = run("terraform plan -auto-approve")
    assert "auto_approve" not in flags(facts)
    cmd = "terragrunt run-all destroy --terragrunt-non-interactive"
    _, facts = run(cmd)
    assert one(facts, "operation").value == "infra_destroy"
    assert at(cmd, one(facts, "flag", "all")) == "run-all"
    assert "auto_approve" in flags(facts)


def test_terraform_workspace_names_environment():
    cmd = "terraform workspace select prod"
    _, facts = run(cmd)
    assert "production" in one(facts, "host", "prod").tags


def test_pulumi_stack():
    cmd = "pulumi destroy --yes -s acme/prod"
    _, facts = run(cmd)
    assert "stack" in target(facts, "acme/prod").tags
    host = one(facts, "host", "prod")
    assert "production" in host.tags and at(cmd, host) == "prod"
    assert at(cmd, one(facts, "flag", "auto_approve")) == "--yes"


def test_helm_release_and_context():
    cmd = "helm uninstall api -n prod --kube-context prod-eks"
    _, facts = run(cmd)
    assert "release" in target(facts, "api").tags
    assert "namespace" in target(facts, "prod").tags
    assert "cluster" in one(facts, "host", "prod-eks").tags


def test_gh_branch_protection_target():
    cmd = "gh api -X DELETE repos/acme/web/branches/main/protection"
    _, facts = run(cmd)
    t = target(facts, "repos/acme/web/branches/main/protection")
    assert {"repository", "branch"} <= set(t.tags)


def test_gh_repo_delete_target():
    cmd = "gh repo delete acme/web --yes"
    _, facts = run(cmd)
    assert at(cmd, target(facts, "acme/web")) == "acme/web"
    assert at(cmd, one(facts, "flag", "auto_approve")) == "--yes"


def test_gh_gist_public_sends_a_file():
    cmd = "gh gist create .env --public"
    _, facts = run(cmd)
    op = one(facts, "operation")
    assert op.value == "network_send" and "public" in op.tags
    assert "secret" in target(facts, ".env").tags


def test_docker_run_flags():
    cmd = "docker run --privileged -v /:/host --net=host --pid=host -d -it alpine chroot /host sh"
    _, facts = run(cmd)
    assert flags(facts) == {"privileged", "mount_root", "host_network", "detached"}
    assert at(cmd, one(facts, "flag", "mount_root")) == "-v"
    assert {at(cmd, f) for f in of(facts, "flag", "host_network")} == {"--net=host", "--pid=host"}
    assert "filesystem_root" in target(facts, "/").tags
    image = target(facts, "alpine")
    assert "image" in image.tags
    assert not [f for f in of(facts, "target") if f.value in ("chroot", "sh")]  # the command is the shell's


def test_docker_socket_and_capabilities():
    cmd = "docker run -v /var/run/docker.sock:/var/run/docker.sock --cap-add=SYS_ADMIN --network host img"
    _, facts = run(cmd)
    assert {at(cmd, f) for f in of(facts, "flag", "privileged")} == {"-v", "--cap-add=SYS_ADMIN"}
    assert at(cmd, one(facts, "flag", "host_network")) == "--network"


def test_docker_compose_down_volumes_deletes():
    cmd = "docker compose down -v"
    _, facts = run(cmd)
    ops = {(f.value, at(cmd, f)) for f in of(facts, "operation")}
    assert ops == {("stop_service", "down"), ("delete", "-v")}


def test_docker_push_registry_host():
    cmd = "docker push registry.example.com/team/app:1.0"
    _, facts = run(cmd)
    assert at(cmd, one(facts, "host", "registry.example.com")) == "registry.example.com"


def test_gcloud_project_and_zone():
    cmd = "gcloud projects delete acme-prod --quiet"
    _, facts = run(cmd)
    assert "production" in one(facts, "host", "acme-prod").tags
    assert at(cmd, one(facts, "flag", "auto_approve")) == "--quiet"
    cmd = "gcloud compute instances delete vm-1 --zone us-central1-a"
    _, facts = run(cmd)
    assert one(facts, "scope").value == "zone:us-central1-a"
    assert "instance" in target(facts, "vm-1").tags


def test_az_group_delete_yes():
    cmd = "az group delete --name rg-prod --yes --no-wait"
    _, facts = run(cmd)
    assert at(cmd, one(facts, "flag", "auto_approve")) == "--yes"
    assert "resource_group" in target(facts, "rg-prod").tags
    assert "production" in one(facts, "host", "rg-prod").tags


def test_helm_uninstall_yes_on_read_is_not_auto_approve():
    _, facts = run("gcloud compute instances list --quiet")
    assert one(facts, "operation").value == "list" and "auto_approve" not in flags(facts)


def test_unknown_commands_write_nothing():
    for cmd in ["kubectl", "aws s3", "terraform", "docker frobnicate", "ls -la", "helm frob"]:
        handled, facts = run(cmd)
        assert not handled and facts == [], cmd
