"""A multi-turn conversation through Sightline with the real OpenAI Python SDK, the way Codex talks over
HTTP: every turn resends the whole history (previous input + the assistant's output + a new user
message) under one prompt_cache_key. Prints one JSON object: per turn, the cached and input tokens the
SDK saw. Usage: python openai_sdk_conversation.py BASE_URL API_KEY TURNS [--chain]

With --chain the SDK instead sends only the new message plus previous_response_id (explicit anchors),
which the proxy must expand from its transcript cache (the Codex backend cannot resolve them over HTTP).
"""
import json
import sys

from openai import OpenAI


def main() -> None:
    base_url, api_key, turns = sys.argv[1], sys.argv[2], int(sys.argv[3])
    chain = "--chain" in sys.argv
    client = OpenAI(base_url=base_url, api_key=api_key, max_retries=0, timeout=30)
    history = [{"role": "user", "content": "You are helping with a long task. " + "context " * 400}]
    out = {"turns": []}
    previous = None
    for turn in range(turns):
        message = {"role": "user", "content": f"turn {turn}: please continue " + "detail " * 60}
        if chain and previous is not None:
            resp = client.responses.create(
                model="gpt-test", input=[message], previous_response_id=previous, prompt_cache_key="sdk-sticky-1"
            )
        else:
            history.append(message)
            resp = client.responses.create(model="gpt-test", input=history, prompt_cache_key="sdk-sticky-1")
            for item in resp.output:
                history.append(item.model_dump(exclude_none=True))
        previous = resp.id
        out["turns"].append(
            {
                "input_tokens": resp.usage.input_tokens,
                "cached_tokens": resp.usage.input_tokens_details.cached_tokens,
                "text": resp.output_text,
            }
        )
    print(json.dumps(out))


if __name__ == "__main__":
    main()
