"""Drives the real OpenAI Python SDK through Sightline and prints what it saw as one JSON object.

Usage: python openai_sdk_turns.py BASE_URL API_KEY
Runs: responses.create(stream=True), the responses.stream() helper, and a non-streaming create.
The Swift integration test asserts on the printed JSON; this script asserts nothing itself, except
that the SDK returned the types a real user relies on.
"""
import json
import sys

from openai import OpenAI


def main() -> None:
    base_url, api_key = sys.argv[1], sys.argv[2]
    client = OpenAI(base_url=base_url, api_key=api_key, max_retries=0, timeout=30)
    out = {}

    # 1. create(stream=True): iterate raw events.
    events = []
    text = ""
    usage = None
    with client.responses.create(
        model="gpt-test", input="Say hello", instructions="be brief", stream=True, prompt_cache_key="sdk-conv-1"
    ) as stream:
        for event in stream:
            events.append(event.type)
            if event.type == "response.output_text.delta":
                text += event.delta
            if event.type == "response.completed":
                usage = event.response.usage.model_dump()
    out["stream"] = {"events": events, "text": text, "usage": usage}

    # 2. responses.stream() helper (needs response.created first).
    with client.responses.stream(model="gpt-test", input="Say hello again", prompt_cache_key="sdk-conv-1") as s:
        for _ in s:
            pass
        final = s.get_final_response()
    out["helper"] = {"text": final.output_text, "usage": final.usage.model_dump(), "id_prefix": final.id[:5]}

    # 3. Non-streaming: the proxy aggregates the upstream stream into one Response object.
    resp = client.responses.create(model="gpt-test", input="Say hello once more", prompt_cache_key="sdk-conv-1")
    out["nonstream"] = {
        "type": type(resp).__name__,
        "status": resp.status,
        "text": resp.output_text,
        "usage": resp.usage.model_dump() if resp.usage else None,
    }
    print(json.dumps(out))


if __name__ == "__main__":
    main()
