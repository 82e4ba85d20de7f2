"""Error paths: every malformed request gets a proper rpc-error and the session keeps working."""
from nc import VCN, args, attempt, connect, done, rpc

a = args()
out = {}
m = connect(a)
C = '<config xmlns="urn:ietf:params:xml:ns:netconf:base:1.0">%s</config>'
svc = lambda inner: C % f'<services xmlns="{VCN}"><service><name>web</name>{inner}</service></services>'
e = lambda cfg, **kw: attempt(lambda: m.edit_config(target="candidate", config=cfg, **kw))
out["bad_value"] = e(svc("<dscp>99</dscp>"))
out["bad_type"] = e(svc("<dscp>abc</dscp>"))
out["unknown_element"] = e(svc("<colour>red</colour>"))
out["wrong_namespace"] = e(C % '<services xmlns="urn:other"><service><name>x</name></service></services>')
out["missing_key"] = e(C % f'<services xmlns="{VCN}"><service><customer>x</customer></service></services>')
out["create_existing"] = e(svc('<acl xmlns:nc="urn:ietf:params:xml:ns:netconf:base:1.0"><rule nc:operation="create"><seq>1</seq><action>deny</action><source>192.0.2.0/24</source></rule></acl>'))
out["delete_missing"] = e(svc('<acl xmlns:nc="urn:ietf:params:xml:ns:netconf:base:1.0"><rule nc:operation="delete"><seq>77</seq></rule></acl>'))
out["bad_operation_attr"] = e(svc('<dscp xmlns:nc="urn:ietf:params:xml:ns:netconf:base:1.0" nc:operation="frob">1</dscp>'))
# semantic error: a step names a device that does not exist (test-then-set rejects it)
out["semantic"] = e(C % f'<services xmlns="{VCN}"><service><name>web</name><port><port>80</port><step><seq>1</seq><device>ghost</device></step></port></service></services>')
# rollback-on-error: one bad entry among good ones leaves the candidate unchanged
two = C % f'<services xmlns="{VCN}"><service><name>web</name><description>changed</description></service><service><name>web</name><dscp>999</dscp></service></services>'
out["rollback_on_error"] = e(two, error_option="rollback-on-error")
out["unchanged_after_rollback"] = "changed" not in m.get_config(source="candidate").data_xml
# continue-on-error: the good part stays, the error is reported
out["continue_on_error"] = e(two, error_option="continue-on-error")
out["changed_after_continue"] = "<description>changed</description>" in m.get_config(source="candidate").data_xml
out["discard"] = attempt(lambda: m.discard_changes())
# test-only: validated, not applied
out["test_only"] = e(svc("<description>tested</description>"), test_option="test-only")
out["not_applied_after_test_only"] = "tested" not in m.get_config(source="candidate").data_xml
# set: an invalid state may be staged; validate and commit then report it with a path
out["set_invalid"] = e(C % f'<services xmlns="{VCN}"><service><name>web</name><port nc:operation="merge" xmlns:nc="urn:ietf:params:xml:ns:netconf:base:1.0"><port>81</port><step><seq>1</seq><device>ghost</device></step></port></service></services>', test_option="set")
out["validate_invalid"] = attempt(lambda: m.validate(source="candidate"))
out["commit_invalid"] = attempt(lambda: m.commit())
out["discard2"] = attempt(lambda: m.discard_changes())
# protocol-level errors
out["unknown_op"] = attempt(lambda: rpc(m, '<frobnicate xmlns="urn:ietf:params:xml:ns:netconf:base:1.0"/>'))
out["unknown_ns_op"] = attempt(lambda: rpc(m, '<frobnicate xmlns="urn:nowhere"/>'))
out["unknown_param"] = attempt(lambda: rpc(m, '<get-config xmlns="urn:ietf:params:xml:ns:netconf:base:1.0"><source><running/></source><extra/></get-config>'))
out["missing_param"] = attempt(lambda: rpc(m, '<get-config xmlns="urn:ietf:params:xml:ns:netconf:base:1.0"/>'))
out["edit_running"] = attempt(lambda: m.edit_config(target="running", config=svc("<dscp>1</dscp>")))
out["copy_to_running"] = attempt(lambda: m.copy_config(source="candidate", target="running"))
out["bad_xpath"] = attempt(lambda: m.get(filter=("xpath", "/[[")))
out["bad_with_defaults"] = attempt(lambda: rpc(m, '<get xmlns="urn:ietf:params:xml:ns:netconf:base:1.0"><with-defaults xmlns="urn:ietf:params:xml:ns:yang:ietf-netconf-with-defaults">explicit</with-defaults></get>'))
out["confirm_timeout_bad"] = attempt(lambda: m.commit(confirmed=True, timeout="soon"))
out["bad_filter_type"] = attempt(lambda: rpc(m, '<get xmlns="urn:ietf:params:xml:ns:netconf:base:1.0"><filter type="regex">x</filter></get>'))
out["xpath_no_select"] = attempt(lambda: rpc(m, '<get xmlns="urn:ietf:params:xml:ns:netconf:base:1.0"><filter type="xpath"/></get>'))
out["two_sources"] = attempt(lambda: rpc(m, '<get-config xmlns="urn:ietf:params:xml:ns:netconf:base:1.0"><source><running/><candidate/></source></get-config>'))
out["url_source"] = attempt(lambda: rpc(m, '<copy-config xmlns="urn:ietf:params:xml:ns:netconf:base:1.0"><target><candidate/></target><source><url>file:///etc/passwd</url></source></copy-config>'))
# the system container's own checks
S = lambda inner: C % f'<system xmlns="{VCN}">{inner}</system>'
out["user_bad_class"] = e(S('<login><user><name>eve</name><class>root</class><password>x</password></user></login>'))
out["user_no_class"] = e(S('<login><user><name>eve</name><password>x</password></user></login>'))
out["user_long_password"] = e(S(f'<login><user><name>eve</name><class>admin</class><password>{"p" * 300}</password></user></login>'))
out["bad_prefix"] = e(S('<management><allowed-prefix>10.0.0.300/8</allowed-prefix></management>'))
out["limit_out_of_range"] = e(S('<management><login-limit><max-failures>0</max-failures></login-limit></management>'))
out["still_works"] = "<data" in m.get_config(source="running").data_xml
m.close_session()
done(out)
