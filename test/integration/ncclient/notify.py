"""Notifications: netconf-config-change after a commit by another session, interleaved with rpcs."""
from nc import args, attempt, connect, done

a = args()
out = {}
s = connect(a)
out["subscribe"] = attempt(lambda: s.create_subscription())
out["subscribe_twice"] = attempt(lambda: s.create_subscription())
w = connect(a)
w.edit_config(target="candidate", config=a["add1"])
w.commit()
n = s.take_notification(timeout=5)
out["notification"] = n.notification_xml if n else None
out["interleaved_rpc"] = "<data" in s.get_config(source="running").data_xml
out["rollback_id"] = None
w.close_session()
s.close_session()
done(out)
