#!/bin/sh
# The proxy and no_proxy keys, through a real forward proxy (tinyproxy on
# 127.0.0.1): the heartbeat and the downloads go through it, no_proxy
# bypasses it, both keys beat the environment (which cron often lacks
# anyway), and the server's Basic credentials are never proxy credentials.
. "$(dirname "$0")/lib.sh"

# How many requests of method $1 for path $2 of our server the proxy saw.
proxied() {
	grep -c "Request (file descriptor [0-9]*): $1 http://127.0.0.1:$PORT$2 " "$T/proxy.log"
}

mkagent falcon-agent 1.0.0
serve "{\"agents\": [$(want falcon-agent 1.0.0)]}"
start_server
check 'tinyproxy starts on 127.0.0.1' start_proxy
PROXY=http://127.0.0.1:$PROXY_PORT
DEAD=http://127.0.0.1:$(free_port)
unset http_proxy HTTP_PROXY https_proxy HTTPS_PROXY all_proxy ALL_PROXY no_proxy NO_PROXY

# Through the proxy. (A pass that changes something sends two heartbeats.)
config "\"proxy\": \"$PROXY\""
pass
is 'through the proxy: exit 0' "$rc" 0
check 'the agent runs' running "$W/falcon-agent/1.0.0"
is 'the heartbeat POST went through the proxy' "$(proxied POST /heartbeat)" 2
is 'the .md5 GET too' "$(proxied GET /files/falcon-agent-1.0.0.tar.gz.md5)" 1
is 'the tarball GET too' "$(proxied GET /files/falcon-agent-1.0.0.tar.gz)" 1

# no_proxy naming the server's host: straight to it.
mkagent falcon-agent 1.0.1
serve "{\"agents\": [$(want falcon-agent 1.0.1)]}"
config "\"proxy\": \"$PROXY\", \"no_proxy\": \"example.invalid,127.0.0.1\""
pass
is 'no_proxy: exit 0' "$rc" 0
check 'upgraded' running "$W/falcon-agent/1.0.1"
is 'no_proxy: the heartbeat did not go through the proxy' "$(proxied POST /heartbeat)" 2
is 'no_proxy: nor the tarball' "$(proxied GET /files/falcon-agent-1.0.1.tar.gz)" 0

# The environment alone is honoured (so the next checks mean something)...
mkagent falcon-agent 1.0.2
serve "{\"agents\": [$(want falcon-agent 1.0.2)]}"
config
http_proxy=$DEAD pass
is 'http_proxy of a dead proxy, no key: exit 1' "$rc" 1
grep_log 'the heartbeat failed on the dead proxy' "POST $BASE/heartbeat: .*(onnect|refused)"
http_proxy=$PROXY pass
is 'http_proxy of the live proxy, no key: exit 0' "$rc" 0
is 'the environment proxy was used' "$(proxied POST /heartbeat)" 4

# ... but the keys beat it.
mkagent falcon-agent 1.0.3
serve "{\"agents\": [$(want falcon-agent 1.0.3)]}"
config "\"proxy\": \"$PROXY\""
http_proxy=$DEAD HTTP_PROXY=$DEAD https_proxy=$DEAD ALL_PROXY=$DEAD pass
is 'the proxy key beats http_proxy & co (dead): exit 0' "$rc" 0
check 'upgraded through the proxy of the key' running "$W/falcon-agent/1.0.3"
is 'the heartbeat went through the proxy of the key' "$(proxied POST /heartbeat)" 6
is 'and the tarball' "$(proxied GET /files/falcon-agent-1.0.3.tar.gz)" 1
config "\"proxy\": \"$PROXY\", \"no_proxy\": \"example.invalid\""
no_proxy=127.0.0.1 NO_PROXY=127.0.0.1 pass
is 'the no_proxy key beats no_proxy (bypass): exit 0' "$rc" 0
is 'the heartbeat still went through the proxy' "$(proxied POST /heartbeat)" 7
config "\"no_proxy\": \"127.0.0.1\""
http_proxy=$DEAD pass
is 'the no_proxy key beats http_proxy (dead): exit 0' "$rc" 0
is 'and the proxy saw nothing' "$(proxied POST /heartbeat)" 7

# A bad proxy key is a config error naming the key.
config "\"proxy\": \"socks4://127.0.0.1:1\""
"$OPS_UPDATER" -c "$W/cfg.json" status >/dev/null 2>"$T/err"
is 'a proxy that is not http(s): exit 78' $? 78
check 'the error names the key' grep -q '^.*proxy: must be an http:// or https:// URL' "$T/err"

# Basic credentials are for the server. A proxy that wants the very same
# user and password must not get them: it answers 407.
SECRET=s3cr3t-$$-pw
printf '%s\n' "$SECRET" >"$T/password"
chmod 600 "$T/password"
mkagent falcon-agent 1.0.4
serve "{\"agents\": [$(want falcon-agent 1.0.4)], \"auth\": {\"user\": \"ops\", \"password\": \"$SECRET\"}}"
config "\"proxy\": \"$PROXY\", \"auth\": {\"user\": \"ops\", \"password_file\": \"$T/password\"}"
pass
is 'server credentials through a plain proxy reach the server: exit 0' "$rc" 0
check 'upgraded through proxy and auth' running "$W/falcon-agent/1.0.4"
stop_proxy
check 'tinyproxy with BasicAuth starts' start_proxy "BasicAuth ops $SECRET"
config "\"proxy\": \"http://127.0.0.1:$PROXY_PORT\", \"auth\": {\"user\": \"ops\", \"password_file\": \"$T/password\"}"
beats=$(grep -c '^POST /heartbeat 200' "$T/requests")
pass
is 'a proxy that wants the server credentials: exit 1' "$rc" 1
# tinyproxy answers 407 and closes at once, which may reset the
# connection before libcurl reads the answer.
grep_log 'refused by the proxy: the credentials were not sent as proxy credentials' \
    "POST $BASE/heartbeat: (HTTP 407|Recv failure)"
is 'the heartbeat never reached the server' "$(grep -c '^POST /heartbeat 200' "$T/requests")" "$beats"
check_fails 'the password is in no log line' grep -rq "$SECRET" "$W/ops-updater.log" "$T/pass.out"
stop_proxy
done_testing
