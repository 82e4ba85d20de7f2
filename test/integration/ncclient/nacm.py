"""NACM-lite: a customer reads and edits only its own services' ACLs; an operator reads but cannot edit."""
from nc import VCN, args, attempt, connect, done

a = args()
out = {}
C = '<config xmlns="urn:ietf:params:xml:ns:netconf:base:1.0">%s</config>'
acl = lambda svc, seq: C % f'<services xmlns="{VCN}"><service><name>{svc}</name><acl><rule><seq>{seq}</seq><action>deny</action><source>198.51.100.0/24</source></rule></acl></service></services>'
c = connect(a, "acme", "acme-pw")
view = c.get_config(source="running").data_xml
out["sees_own"] = "<name>web</name>" in view
out["sees_other"] = "<name>svc0</name>" in view
out["sees_devices"] = "<device>" in view or "srv0" in view
out["sees_system"] = "<system" in view or "$scrypt$" in view
out["own_system"] = attempt(lambda: c.edit_config(target="candidate", config=C % f'<system xmlns="{VCN}"><login><user><name>acme</name><class>admin</class></user></login></system>'))
out["own_acl"] = attempt(lambda: c.edit_config(target="candidate", config=acl("web", 5)))
out["commit"] = attempt(lambda: c.commit())
out["other_acl"] = attempt(lambda: c.edit_config(target="candidate", config=acl("svc0", 5)))
out["own_ip"] = attempt(lambda: c.edit_config(target="candidate", config=C % f'<services xmlns="{VCN}"><service><name>web</name><service-ip>10.9.9.9</service-ip></service></services>'))
out["copy"] = attempt(lambda: c.copy_config(source="running", target="startup"))
out["kill"] = attempt(lambda: c.kill_session("1"))
c.close_session()
adm = connect(a)
out["committed_rule"] = "198.51.100.0/24" in adm.get_config(source="running").data_xml
adm.close_session()
o = connect(a, "oper", "oper-pw")
oview = o.get_config(source="running").data_xml
out["oper_reads_all"] = "<name>svc0</name>" in oview and "<name>acme</name>" in oview
out["oper_sees_hashes"] = "$scrypt$" in oview or "<password>" in oview
out["oper_edit"] = attempt(lambda: o.edit_config(target="candidate", config=acl("web", 6)))
out["oper_commit"] = attempt(lambda: o.commit())
o.close_session()
try:
    connect(a, "acme", "wrong")
    out["bad_password"] = "accepted"
except Exception as e:
    out["bad_password"] = type(e).__name__
done(out)
