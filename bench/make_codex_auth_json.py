"""Prints a Codex CLI auth.json for simulator account N (obviously fake credentials, unsigned id token).

codex-lb imports accounts from exactly this file shape (POST /api/accounts/import, field auth_json); the
id token's "https://api.openai.com/auth" claim carries the ChatGPT account id and plan it reads.
"""
import base64
import json
import sys
import time


def b64(obj):
    return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()


n = int(sys.argv[1]) if len(sys.argv) > 1 else 1
claims = {
    "exp": int(time.time()) + 30 * 86400,
    "email": f"bench-acct{n}@example.invalid",
    "sub": f"user-sim-acct{n}",
    "https://api.openai.com/auth": {
        "chatgpt_account_id": f"sim-account-{n}",
        "chatgpt_plan_type": "plus",
        "chatgpt_user_id": f"user-sim-acct{n}",
        "user_id": f"user-sim-acct{n}",
    },
}
id_token = b64({"alg": "none", "typ": "JWT"}) + "." + b64(claims) + ".sim-unsigned"
print(json.dumps({
    "OPENAI_API_KEY": None,
    "tokens": {
        "id_token": id_token,
        "access_token": f"sim-access-acct{n}-0",
        "refresh_token": f"sim-refresh-acct{n}-0",
        "account_id": f"sim-account-{n}",
    },
    # "Just refreshed": codex-lb refreshes tokens older than 8 days against auth.openai.com (a constant it
    # does not let us point at the simulator), so the benchmark must never look stale.
    "last_refresh": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
}))
