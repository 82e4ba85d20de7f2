"""Confirmed commit: revert after the timeout; confirm by a second commit; persist / persist-id across sessions; cancel-commit."""
import time
from nc import args, attempt, connect, done

a = args()
out = {}
m = connect(a)
has = lambda: "<name>tmp1</name>" in m.get_config(source="running").data_xml
out["edit"] = attempt(lambda: m.edit_config(target="candidate", config=a["add1"]))
# 8 s: the second session's SSH login (scrypt) must fit inside the window on a loaded machine
out["confirmed"] = attempt(lambda: m.commit(confirmed=True, timeout="8"))
t_confirmed = time.monotonic()
out["present_during"] = has()
out["commit_while_pending_other_session"] = None
other = connect(a)
out["commit_while_pending_other_session"] = attempt(lambda: other.commit())
other.close_session()
time.sleep(max(0, 8 + 2.5 - (time.monotonic() - t_confirmed)))
out["present_after_timeout"] = has()
# candidate reads as running again after the revert
out["candidate_after_revert_has"] = "<name>tmp1</name>" in m.get_config(source="candidate").data_xml

# confirmed, then confirmed by a plain commit
out["edit2"] = attempt(lambda: m.edit_config(target="candidate", config=a["add1"]))
out["confirmed2"] = attempt(lambda: m.commit(confirmed=True, timeout="2"))
out["confirm"] = attempt(lambda: m.commit())
time.sleep(2.5)
out["present_after_confirm"] = has()

# persist: survives the session; confirmed from another session with persist-id
out["edit3"] = attempt(lambda: m.edit_config(target="candidate", config=a["add2"]))
out["persist"] = attempt(lambda: m.commit(confirmed=True, timeout="30", persist="tok-1"))
m.close_session()
n = connect(a)
out["tmp2_after_close"] = "<name>tmp2</name>" in n.get_config(source="running").data_xml
out["wrong_persist_id"] = attempt(lambda: n.commit(persist_id="nope"))
out["cancel_without_id"] = attempt(lambda: n.cancel_commit())
out["cancel"] = attempt(lambda: n.cancel_commit(persist_id="tok-1"))
out["tmp2_after_cancel"] = "<name>tmp2</name>" in n.get_config(source="running").data_xml
out["cancel_nothing"] = attempt(lambda: n.cancel_commit())

# a confirmed commit without persist is cancelled when its session ends
out["edit4"] = attempt(lambda: n.edit_config(target="candidate", config=a["add2"]))
out["confirmed4"] = attempt(lambda: n.commit(confirmed=True, timeout="60"))
n.close_session()
time.sleep(0.5)
k = connect(a)
out["tmp2_after_session_end"] = "<name>tmp2</name>" in k.get_config(source="running").data_xml
k.close_session()
done(out)
