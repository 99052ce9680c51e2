#!/usr/bin/env python3
"""Writes docs/schemas/clusterfile.schema.json, the editor schema (JSON Schema 2020-12) of Clusterfile v2 documents.

It is derived by hand from the one reader, src/Sealer.Core/Delivery/Clusterfile/ClusterfileReader*.cs: each CheckKeys list is
an object's properties (additionalProperties: false), each Str/Bool/Port/StrList/Env check a type, the reader's defaults are
`default`s and its v1 hints are descriptions. Change the reader, then this script, then run it; tests/Sealer.Delivery.Tests
ClusterfileSchemaTests check the schema against the reader (valid files pass, shape errors fail)."""
import json, os, sys

def ci(word):
    """A case-insensitive ECMAScript pattern for word (JSON Schema patterns have no flags)."""
    return "".join(f"[{c.upper()}{c.lower()}]" if c.isalpha() else c for c in word)

def ci_loose(word):
    """As the reader's ParsePhase: case-insensitive, '-' and '_' anywhere."""
    return "[-_]*" + "".join((f"[{c.upper()}{c.lower()}]" if c.isalpha() else c) + "[-_]*" for c in word)

TEXT = {"type": ["string", "number", "boolean"]}
OPT_TEXT = {"type": ["string", "number", "boolean", "null"]}

def text(desc, **kw):
    return {"description": desc, **TEXT, **kw}

def opt(desc, **kw):
    return {"description": desc, **OPT_TEXT, **kw}

def str_list(desc, item=None, **kw):
    return {"description": desc, "type": ["array", "null"], "items": item or TEXT, **kw}

PORT = {"description": "A port number from 1 to 65535 (quoted or not).",
        "anyOf": [{"type": "integer", "minimum": 1, "maximum": 65535},
                  {"type": "string", "pattern": r"^\s*0*([1-9][0-9]{0,3}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5])\s*$"}]}
BOOL = {"anyOf": [{"type": "boolean"}, {"type": "string", "pattern": r"^\s*(" + ci("true") + "|" + ci("false") + r")\s*$"}]}

def port(desc, default=None):
    d = {**PORT, "description": desc}
    if default is not None: d["default"] = default
    return d

def boolean(desc, default):
    return {**BOOL, "description": desc, "default": default}

def env(desc):
    return {"description": desc + " Each entry is KEY=value (Sealer's format; a mapping is refused).",
            "type": ["array", "null"], "items": {"type": "string", "pattern": r"^[^=\s]+="}, "examples": [["TZ=UTC"]]}

def v1(hint):
    # a property the reader refuses with a hint: never suggested, always an error that says what to write instead
    return {"description": hint, "deprecationMessage": hint, "errorMessage": hint, "doNotSuggest": True, "not": {}}

def obj(desc, props, required=(), **kw):
    d = {"description": desc, "type": "object", "properties": props, "additionalProperties": False}
    if required: d["required"] = list(required)
    d.update(kw)
    return d

SSH_PROPS = {
    "user": opt("The SSH user: root, or one with passwordless sudo.", default="root"),
    "passwd": opt("The SSH password. Better: leave it out and give SEALER_SSH_PASSWORD. Quote it if it starts with '*' (YAML alias)."),
    "pk": opt("The SSH private key file ('~/' is the home directory). pk: \"\" on a host group clears the cluster's key.", examples=["~/.ssh/id_ed25519"]),
    "pkPasswd": opt("The passphrase of the private key."),
    "port": port("The SSH port.", 22),
    "encrypted": boolean("passwd is encrypted with Sealer's cipher (sealer v0.8 'encrypt').", False),
    "jumpHost": opt("A jump host (our Clusterfile extension): user@host:port.", examples=["admin@bastion.example:22"]),
    "password": v1("The SSH password field is 'passwd'."),
    "privateKey": v1("The SSH private key field is 'pk'."),
}

def ssh(desc):
    return obj(desc, SSH_PROPS)

METADATA = obj("The document's name (Kubernetes object metadata; only name is used).", {
    "name": opt("The name (the cluster's name for a Cluster document)."),
    "namespace": opt("Ignored."), "labels": {"description": "Ignored."}, "annotations": {"description": "Ignored."},
    "creationTimestamp": {"description": "Ignored."}, "generation": {"description": "Ignored."},
    "resourceVersion": {"description": "Ignored."}, "uid": {"description": "Ignored."},
})

def header(kind, spec):
    return {"properties": {
        "apiVersion": opt("sealer.io/v2 (not checked: Sealer's documents are dispatched on kind).", examples=["sealer.io/v2"]),
        "kind": {"const": kind},
        "metadata": METADATA,
        "spec": spec,
        "status": {"description": "Ignored (written by tools)."},
    }, "required": ["kind", "spec"], "additionalProperties": False}

ROLE = {"type": "string", "pattern": r"^\s*[a-zA-Z0-9]([-a-zA-Z0-9_.]*[a-zA-Z0-9])?\s*$"}
MASTER = r"^\s*" + ci("master") + r"\s*$"

host_group = obj("A group of hosts with the same roles and settings.", {
    "ips": {"description": "The hosts' addresses: one address (192.168.0.2) or a range (192.168.0.2-192.168.0.9, at most 4096).",
            "type": "array", "items": TEXT, "examples": [["192.168.0.2"]]},
    "roles": {"description": "master, node, or any role name (lowercase letters, digits, '-', '_', '.'): extra roles label the host node-role.kubernetes.io/<role> and select Plugin scopes.",
              "type": ["array", "null"], "items": ROLE, "minItems": 1, "examples": [["master"], ["node"]]},
    "ssh": ssh("SSH settings for these hosts, over the cluster's spec.ssh."),
    "env": env("Environment for these hosts' scripts, over spec.env."),
    "labels": {"description": "Node labels (key: value).", "type": ["object", "null"], "additionalProperties": TEXT},
    "taints": str_list("Node taints, key=value:Effect (NoSchedule, PreferNoSchedule, NoExecute).", {"type": "string", "pattern": r"^.*:.*[^:]$"}),
    "ip": v1("A host group lists its addresses in 'ips' (a list)."),
}, ["ips", "roles"])

registry = obj("The registry the cluster pulls from: the local one Sealer runs on the masters, or an external one.", {
    "localRegistry": obj("The registry Sealer runs on the masters from the cluster image.", {
        "domain": opt("The registry's host name (added to /etc/hosts).", default="sea.hub"),
        "port": port("The registry's port.", 5000),
        "username": opt("The registry user (htpasswd)."),
        "password": opt("The registry password."),
        "ha": boolean("Run the registry on every master (else master0 only).", True),
        "insecure": boolean("Serve plain HTTP instead of TLS.", False),
        "cert": obj("The registry certificate.", {
            "subjectAltName": obj("Extra names of the certificate.", {
                "dnsNames": str_list("Extra DNS names."),
                "ips": str_list("Extra IP addresses."),
            }),
        }),
    }),
    "externalRegistry": obj("A registry outside the cluster that the hosts pull from.", {
        "domain": text("The registry's host name."),
        "port": port("The registry's port."),
        "username": opt("The registry user."),
        "password": opt("The registry password."),
        "prefix": opt("A path the app images go under, by domain (PREFIX/docker.io/library/nginx): one Harbor project for all of them; not a Sealer field."),
    }, ["domain"]),
})

cluster_spec = obj("The cluster: the cluster image, the hosts and how to reach them.", {
    "image": text("The cluster image to install: a name in the image cache or store, or a path.", examples=["docker.io/sealerio/kubernetes:v1.22.15"]),
    "env": env("Environment for the image's scripts and templates."),
    "cmd_args": str_list("Arguments for the image's CMD."),
    "cmd": str_list("Replaces the image's CMD."),
    "appNames": str_list("The apps of the image to launch (default: the image's launch list)."),
    "ssh": ssh("How to reach the hosts (each host group may override it)."),
    "hosts": {"description": "The hosts, in groups. At least one host has the master role.", "type": "array", "minItems": 1,
              "items": host_group, "contains": {"type": "object", "required": ["roles"], "properties": {"roles": {"type": "array", "contains": {"type": "string", "pattern": MASTER}}}}},
    "registry": registry,
    "containerRuntime": obj("The container runtime.", {"type": {"description": "containerd or docker (default: the image's).", "enum": ["containerd", "docker", None, ""]}}),
    "hostAliases": {"description": "Extra /etc/hosts entries on every host.", "type": "array",
                    "items": obj("An /etc/hosts entry.", {"ip": text("The address."), "hostnames": str_list("Its names.")}, ["ip"])},
    "dataRoot": {"description": "Where Sealer keeps its data on the hosts (an absolute path).", "type": ["string", "null"], "pattern": "^/", "default": "/var/lib/sealer/data"},
    "masters": v1("That is a Clusterfile v1 field; convert the file with 'sealer convert clusterfile OLD > NEW' (hosts go under spec.hosts with roles: [master])."),
    "nodes": v1("That is a Clusterfile v1 field; convert the file with 'sealer convert clusterfile OLD > NEW' (hosts go under spec.hosts with roles: [node])."),
    "provider": v1("That is a Clusterfile v1 field; v2 has no provider (hosts are reached over SSH)."),
    "network": v1("That is a Clusterfile v1 field; configure the CNI through a Config or the image's env."),
    "certSANS": v1("That is a Clusterfile v1 field; use a kubeadm ClusterConfiguration document (apiServer.certSANs)."),
}, ["image", "hosts"])

PHASES = {"preinstall": "pre-install", "originally": None, "preinithost": "pre-init-host", "preinit": None, "postinithost": "post-init-host",
          "postinit": None, "postinstall": "post-install", "prejoin": "pre-join", "postjoin": "post-join", "precleanhost": "pre-clean-host",
          "preclean": None, "postcleanhost": "post-clean-host", "postclean": None, "preuninstall": "pre-uninstall",
          "postuninstall": "post-uninstall", "upgradehost": "upgrade-host", "upgrade": "upgrade"}
token = r"\s*(" + "|".join(ci_loose(w) for w in sorted(PHASES, key=len, reverse=True)) + r")\s*"
action_pattern = r"^[\s|]*" + token + r"(\|[\s|]*" + token + r")*[\s|]*$"

plugin_spec = obj("A shell script run on hosts at a phase of the install.", {
    "type": {"description": "SHELL (the default). Sealer v0.8's LABEL, TAINT and HOSTNAME (one 'IP value' a line) still read; ETCD and OUT are refused.",
             "type": "string", "pattern": r"^\s*(" + "|".join(ci(t) for t in ["SHELL", "LABEL", "TAINT", "HOSTNAME"]) + r")\s*$",
             "default": "SHELL", "examples": ["SHELL"]},
    "action": {"description": "When it runs: one phase or several separated by '|'. Kebab-case, or Sealer's CamelCase (PreInit, PostInstall, Originally).",
               "type": "string", "pattern": action_pattern, "examples": [v for v in PHASES.values() if v]},
    "scope": opt("The hosts it runs on: roles or IPs separated by '|' (default: every host).", examples=["master", "master|node"]),
    "on": opt("Sealer v0.8's selector: IPs, ranges, or a label k=v (read as written, quoted or not)."),
    "data": text("The shell script (or the LABEL/TAINT/HOSTNAME lines). Write it as a block: data: |"),
}, ["action", "data"])

config_spec = obj("A file in the cluster image's rootfs written or merged before install.", {
    "path": text("The file, relative to the rootfs (no leading '/', no '..').", pattern=r"^(?!/)(?!(.*/)?\.\.(/|$))", examples=["etc/values.yaml"]),
    "data": opt("The content."),
    "strategy": {"description": "merge (YAML merge, the default), override or insert.", "enum": ["merge", "override", "insert", None, ""], "default": "merge"},
    "process": opt("Sealer's processors (value|toJson|toBase64|toSecret), applied to data."),
}, ["path"])

HELM_KEYS = ["name", "namespace", "createNamespace", "wait", "atomic", "timeout", "skipCRDs", "disableHooks", "values", "valueFiles"]
helm = {"description": "Settings for the app's chart install (the chart is the app's own directory in the image). Keys are read case-insensitively, as Sealer's Go decoder does; only the spelling shown here is checked further.",
        "type": "object", "propertyNames": {"pattern": "^(" + "|".join(ci(k) for k in HELM_KEYS) + ")$"},
        "properties": {
            "name": opt("The release name (default: the app's name)."),
            "namespace": opt("The release namespace."),
            "createNamespace": boolean("Create the namespace.", True),
            "wait": {**BOOL, "description": "Wait until the release is ready."},
            "atomic": boolean("Roll back on failure.", False),
            "timeout": opt("A Go duration (5m, 90s, 1h30m).", pattern=r"^([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$"),
            "skipCRDs": boolean("Skip the chart's CRDs.", False),
            "disableHooks": boolean("Skip the chart's hooks.", False),
            "values": str_list("helm --set values, key=value.", {"type": "string", "pattern": "^[^=]+="}),
            "valueFiles": str_list("Values files in the cluster image (relative to the app's directory or absolute; no URL, no '..').",
                                   {"type": "string", "pattern": r"^(?!.*://)(?!(.*/)?\.\.(/|$))"}),
        }}

app_config = obj("How one app of the image is launched and configured.", {
    "name": text("The app's name in the image."),
    "launch": {**obj("How the app is launched: cmds (full command lines) or helm (settings for the chart's install), not both.", {
        "cmds": str_list("Command lines that launch the app."),
        "helm": helm,
    }), "not": {"required": ["cmds", "helm"], "properties": {"cmds": {"type": "array", "minItems": 1}, "helm": {"type": "object"}}}},
    "env": env("Environment for the app's launch."),
    "files": {"description": "Files of the app written before launch.", "type": "array", "items": obj("A file of the app.", {
        "path": text("Relative to the app's directory (no leading '/', no '..').", pattern=r"^(?!/)(?!(.*/)?\.\.(/|$))", examples=["values.yaml"]),
        "strategy": {"description": "overwrite (the default) or merge.", "enum": ["overwrite", "merge", None, ""], "default": "overwrite"},
        "data": opt("The content."),
    }, ["path"])},
}, ["name"])

application_spec = obj("Which apps of the image run and how.", {
    "cmds": str_list("Command lines run instead of the apps' launch."),
    "launchApps": str_list("The apps to launch, in order (default: the image's launch list)."),
    "configs": {"description": "Per-app launch settings and files (each app once).", "type": "array", "items": app_config},
}, [])

KUBEADM = ["InitConfiguration", "ClusterConfiguration", "JoinConfiguration", "KubeletConfiguration", "KubeProxyConfiguration", "KubeadmConfig"]

schema = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",

    "title": "Sealer Clusterfile v2 document",
    "$comment": "Generated by build/gen-clusterfile-schema.py from the reader (ClusterfileReader.cs). Applies to each document of the multi-document Clusterfile.",
    "description": ("One document of a Clusterfile (sealer.io/v2): Cluster, Plugin, Config, Application, or a kubeadm document passed to kubeadm as is. "
                    "What the schema cannot say, the reader still checks: a file needs one Cluster document; a host is listed once; ips are addresses or ranges; "
                    "scope names roles hosts have; app configs name each app once. Clusterfile v1 files (spec.masters/nodes, provider) are refused with the 'sealer convert clusterfile' hint."),
    "type": "object",
    "required": ["kind"],
    "properties": {"kind": {"description": "The document's kind.", "enum": ["Cluster", "Plugin", "Config", "Application", *KUBEADM]}},
    "allOf": [
        {"if": {"properties": {"kind": {"const": "Cluster"}}}, "then": header("Cluster", cluster_spec)},
        {"if": {"properties": {"kind": {"const": "Plugin"}}}, "then": header("Plugin", plugin_spec)},
        {"if": {"properties": {"kind": {"const": "Config"}}}, "then": header("Config", config_spec)},
        {"if": {"properties": {"kind": {"const": "Application"}}}, "then": header("Application", application_spec)},
    ],
}

out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "docs", "schemas", "clusterfile.schema.json")
text_out = json.dumps(schema, indent=2, ensure_ascii=False) + "\n"
if "--check" in sys.argv:
    sys.exit(0 if open(out, encoding="utf-8").read() == text_out else "docs/schemas/clusterfile.schema.json is stale: run python3 build/gen-clusterfile-schema.py")
with open(out, "w", encoding="utf-8", newline="\n") as f:
    f.write(text_out)
