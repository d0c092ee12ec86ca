#!/bin/sh
# One full pass (heartbeat, download, verify, unpack, start, .version) and a
# converged one under valgrind memcheck: no errors, no leaks. Its findings
# are "==PID==" lines; "--PID--" lines are its own notes (valgrind 3.19 does
# not know pidfd_open, and spawn falls back to polling). Uses the build
# without sanitizers ($PLAIN): valgrind and ASan do not mix.
. "$(dirname "$0")/lib.sh"

bin=${PLAIN:-$TOP/build/ops-updater}
check 'valgrind is installed (.ci/deps installs it)' command -v valgrind
mkagent falcon-agent 1.0.0
(cd "$F" && sha256sum falcon-agent-1.0.0.tar.gz >falcon-agent-1.0.0.tar.gz.sha256)
serve "{\"agents\": [$(want falcon-agent 1.0.0)]}"
start_server
config '"control_timeout": 20, "status_wait": 20'
vg() {
	valgrind -q --leak-check=full --show-leak-kinds=definite,indirect,possible \
	    --errors-for-leak-kinds=definite,indirect,possible --error-exitcode=99 \
	    --log-file="$T/vg.$1" "$bin" -c "$W/cfg.json" -v --no-jitter run
}
vg install
is 'install under memcheck: exit 0' $? 0
is 'install: memcheck reports nothing' "$(grep '^==' "$T/vg.install")" ''
check 'install: the agent runs' running "$W/falcon-agent/1.0.0"
vg converged
is 'converged pass under memcheck: exit 0' $? 0
is 'converged: memcheck reports nothing' "$(grep '^==' "$T/vg.converged")" ''
"$bin" -c "$W/cfg.json" status >/dev/null
valgrind -q --leak-check=full --errors-for-leak-kinds=definite,indirect,possible --error-exitcode=99 \
    --log-file="$T/vg.plan" "$bin" -c "$W/cfg.json" plan >/dev/null 2>&1
is 'plan under memcheck: exit 0' $? 0
is 'plan: memcheck reports nothing' "$(grep '^==' "$T/vg.plan")" ''
done_testing
