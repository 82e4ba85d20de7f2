"""Two concurrent sessions: lock contention, in-use edits, interleaved reads, kill-session releases the lock."""
import time
from nc import args, attempt, connect, done

a = args()
out = {}
A = connect(a)
B = connect(a)
out["ids"] = [A.session_id, B.session_id]
out["a_lock"] = attempt(lambda: A.lock("candidate"))
out["b_lock"] = attempt(lambda: B.lock("candidate"))
out["b_edit"] = attempt(lambda: B.edit_config(target="candidate", config=a["edit"]))
out["b_read"] = "<data" in B.get_config(source="candidate").data_xml
out["a_lock_running"] = attempt(lambda: A.lock("running"))
out["b_commit"] = attempt(lambda: B.commit())
out["a_edit"] = attempt(lambda: A.edit_config(target="candidate", config=a["edit"]))
out["b_unlock_not_holder"] = attempt(lambda: B.unlock("candidate"))
out["a_kill_self"] = attempt(lambda: A.kill_session(A.session_id))
out["b_kill_a"] = attempt(lambda: B.kill_session(A.session_id))
time.sleep(0.5)
out["a_connected_after_kill"] = A.connected
# A's locks are gone and its candidate lock discarded the candidate.
out["b_lock_after_kill"] = attempt(lambda: B.lock("candidate"))
out["b_lock_running_after_kill"] = attempt(lambda: B.lock("running"))
out["kill_unknown"] = attempt(lambda: B.kill_session("9999"))
out["b_unlock"] = attempt(lambda: B.unlock("candidate"))
B.close_session()
done(out)
