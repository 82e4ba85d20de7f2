"""Helpers for the ncclient scripts: connect to the test daemon, capture rpc-errors as dicts, print JSON."""
import json
import sys

from ncclient import manager
from ncclient.operations.rpc import RPCError
from ncclient.xml_ import to_ele

VCN = "urn:vcn:appliance"


def args():
    return json.loads(sys.argv[1])


def connect(a, user="admin", password=None):
    return manager.connect(
        host="127.0.0.1",
        port=a["port"],
        username=user,
        password=password or a.get("password", "admin-secret"),
        hostkey_verify=False,
        allow_agent=False,
        look_for_keys=False,
        timeout=20,
    )


def err(e):
    """An RPCError as a dict of the fields the tests assert on."""
    return {
        "type": e.type,
        "tag": e.tag,
        "severity": e.severity,
        "path": (e.path or "").strip() or None,
        "message": (e.message or "").strip() or None,
        "app_tag": e.app_tag,
        "info": e.info,
        "count": len(e.errlist) if getattr(e, "errlist", None) else 1,
    }


def attempt(fn):
    """Runs fn; returns {"ok": result} or {"error": {...}} for an rpc-error."""
    try:
        r = fn()
        return {"ok": True if r is None else (r.xml if hasattr(r, "xml") else str(r))}
    except RPCError as e:
        return {"error": err(e)}


def done(result):
    print(json.dumps(result))


def rpc(m, xml):
    return m.dispatch(to_ele(xml))
