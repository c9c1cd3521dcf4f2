# Sourced by bench/profile.sh and bench/paired.sh, which probe the same set-up: one simulator account answering
# unpaced 208-event streams, and sightline in front of it with that account.

# unpaced_simulator_config FILE
unpaced_simulator_config() {
    cat >"$1" <<EOF
{"accounts": [{"name":"acct1","accountId":"sim-account-1","accessToken":"sim-access-acct1-0","refreshToken":"sim-refresh-acct1-0","plan":"plus"}],
 "eventProfile": {"deltaCount": 200, "deltaDelayMs": 0, "textSize": 2000},
 "accessTokenLifetimeSeconds": 86400, "primaryWindowTokenBudget": 1000000000000000, "secondaryWindowTokenBudget": 1000000000000000}
EOF
}

# unpaced_proxy_config FILE PORT SIMULATOR_PORT STATE_DIR LOG_FILE
unpaced_proxy_config() {
    cat >"$1" <<EOF
{"listen": {"host": "127.0.0.1", "port": $2}, "stateDirectory": "$4",
 "accounts": [{"name":"acct1","kind":"chatgpt","baseURL":"http://127.0.0.1:$3/backend-api/codex","accountId":"sim-account-1",
   "accessToken":"sim-access-acct1-0","refreshToken":"sim-refresh-acct1-0","maxConcurrentRequests":1024}],
 "upstream": {"tokenURL": "http://127.0.0.1:$3/oauth/token"},
 "log": {"stdout": false, "file": "$5"}}
EOF
    chmod 600 "$1"  # the proxy refuses a readable config that holds inline credentials
}
