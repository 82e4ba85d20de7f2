"""vcn RPCs (rollback, compare, commit-history), copy-config and delete-config with startup."""
from nc import VCN, args, attempt, connect, done, rpc

a = args()
out = {}
m = connect(a)
out["history"] = rpc(m, f'<commit-history xmlns="{VCN}"><limit>50</limit></commit-history>').xml
m.edit_config(target="candidate", config=a["add1"])
m.commit()
out["compare"] = rpc(m, f'<compare xmlns="{VCN}"><from>{a["before"]}</from><to>running</to></compare>').xml
out["rollback"] = attempt(lambda: rpc(m, f'<rollback xmlns="{VCN}"><commit-id>{a["before"]}</commit-id></rollback>'))
out["gone_after_rollback"] = "<name>tmp3</name>" not in m.get_config(source="running").data_xml
out["rollback_unknown"] = attempt(lambda: rpc(m, f'<rollback xmlns="{VCN}"><commit-id>99999</commit-id></rollback>'))
out["copy_startup"] = attempt(lambda: m.copy_config(source="running", target="startup"))
out["startup_has_web"] = "<name>web</name>" in m.get_config(source="startup").data_xml
out["copy_inline_candidate"] = attempt(lambda: rpc(m, '<copy-config xmlns="urn:ietf:params:xml:ns:netconf:base:1.0"><target><candidate/></target><source>%s</source></copy-config>' % a["inline"]))
out["candidate_from_inline"] = m.get_config(source="candidate").data_xml
out["discard"] = attempt(lambda: m.discard_changes())
out["delete_startup"] = attempt(lambda: m.delete_config(target="startup"))
out["startup_after_delete_has_web"] = "<name>web</name>" in m.get_config(source="startup").data_xml
out["delete_running"] = attempt(lambda: m.delete_config(target="running"))
m.close_session()
done(out)
