"""Login attempts, one per step: password or key; optionally an edit + commit, a get-config, a compare.

Argument: {"port": N, "steps": [{"user", "password"?, "key"?, "edit"?, "get"?, "compare"?}]}
Each result: {"ok": true, "user_passwords": [...], "data": "...", "edit": ..., "commit": ...} or {"error": "<exception class>"}.
"""
import re

from ncclient import manager
from nc import VCN, args, attempt, done, rpc

a = args()
out = []
for st in a["steps"]:
    try:
        m = manager.connect(
            host="127.0.0.1",
            port=a["port"],
            username=st["user"],
            password=st.get("password"),
            key_filename=st.get("key"),
            hostkey_verify=False,
            allow_agent=False,
            look_for_keys=False,
            timeout=20,
        )
    except Exception as e:  # noqa: BLE001 - the class name is the result
        out.append({"error": type(e).__name__, "message": str(e)[:200]})
        continue
    r = {"ok": True}
    if st.get("edit"):
        r["edit"] = attempt(lambda: m.edit_config(target="candidate", config=st["edit"]))
        cand = m.get_config(source="candidate").data_xml
        r["candidate_passwords"] = re.findall(r"<password>([^<]*)</password>", cand)
        r["commit"] = attempt(lambda: m.commit())
    if st.get("get"):
        data = m.get_config(source="running").data_xml
        r["data"] = data
        r["passwords"] = re.findall(r"<password>([^<]*)</password>", data)
        r["users"] = re.findall(r"<user>\s*<name>([^<]*)</name>", data)
    if st.get("compare") is not None:
        r["compare"] = attempt(lambda: rpc(m, f'<compare xmlns="{VCN}"><from>{st["compare"]}</from><to>running</to></compare>'))
    m.close_session()
    out.append(r)
done(out)
