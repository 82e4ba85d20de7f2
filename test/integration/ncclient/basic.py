"""Hello, capabilities, get-config, edit-config on the candidate, validate, commit, get with filters, get-schema, close-session."""
from lxml import etree
from nc import VCN, args, attempt, connect, done, rpc

a = args()
out = {}
m = connect(a)
out["session_id"] = m.session_id
out["caps"] = sorted(m.server_capabilities)
out["base11"] = ":base:1.1" in m.server_capabilities

SERVICE = f"""<config xmlns="urn:ietf:params:xml:ns:netconf:base:1.0"><services xmlns="{VCN}">
  <service><name>web2</name><customer>beta</customer><service-ip>10.200.0.2</service-ip>
    <port><port>80</port><protocol>tcp</protocol><step><seq>1</seq><device>srv0</device></step></port>
    <acl><rule><seq>1</seq><action>deny</action><source>192.0.2.0/24</source></rule></acl>
  </service></services></config>"""
out["edit"] = attempt(lambda: m.edit_config(target="candidate", config=SERVICE))
out["validate"] = attempt(lambda: m.validate(source="candidate"))
cand = m.get_config(source="candidate").data_xml
out["candidate_has_web"] = "<name>web2</name>" in cand
out["running_before_commit_has_web"] = "<name>web2</name>" in m.get_config(source="running").data_xml
out["commit"] = attempt(lambda: m.commit())
running = m.get_config(source="running").data_xml
out["running_has_web"] = "<name>web2</name>" in running
out["running"] = running
# subtree filter: only the web service's acl
flt = f'<services xmlns="{VCN}"><service><name>web2</name><acl/></service></services>'
out["subtree"] = m.get_config(source="running", filter=("subtree", flt)).data_xml
# xpath filter
out["xpath"] = m.get(filter=("xpath", ({"v": VCN}, "/v:services/v:service[v:name='web2']/v:service-ip"))).data_xml
# with-defaults trim drops protocol default (any) on srv ports? and acl default-action permit
out["trim"] = m.get_config(source="running", with_defaults="trim").data_xml
out["report_all"] = m.get_config(source="running", with_defaults="report-all").data_xml
# monitoring and yang-library via get
g = m.get(filter=("subtree", '<netconf-state xmlns="urn:ietf:params:xml:ns:yang:ietf-netconf-monitoring"><sessions/><schemas/></netconf-state>')).data_xml
out["monitoring"] = g
out["yanglib"] = m.get(filter=("subtree", '<yang-library xmlns="urn:ietf:params:xml:ns:yang:ietf-yang-library"/>')).data_xml
out["schema"] = m.get_schema("vcn").data[:200] if hasattr(m.get_schema("vcn"), "data") else None
out["schema_missing"] = attempt(lambda: m.get_schema("nope"))
out["state"] = m.get(filter=("subtree", '<state xmlns="urn:vcn:appliance:state"/>')).data_xml
m.close_session()
out["closed"] = not m.connected
done(out)
