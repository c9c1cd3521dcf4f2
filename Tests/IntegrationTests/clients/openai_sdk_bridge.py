"""A three-turn OpenAI SDK conversation over HTTP that resends the whole history each turn, as SDK users do.

Usage: python openai_sdk_bridge.py BASE_URL API_KEY
Prints {"cached": [...], "texts": [...]} — cached input tokens per turn and each answer's text.
Turn 2 streams (the bridge turns WebSocket frames into SSE); turns 1 and 3 are non-streaming.
"""
import json
import sys

from openai import OpenAI


def main() -> None:
    base_url, api_key = sys.argv[1], sys.argv[2]
    client = OpenAI(base_url=base_url, api_key=api_key, max_retries=0, timeout=30)
    history, cached, texts = [], [], []
    # Long enough for the simulator's prompt cache (it caches in 64-token blocks above a minimum).
    instructions = "Answer briefly and precisely. " * 400
    for n, question in enumerate(["first question " * 200, "second question " * 200, "third question"]):
        history.append({"role": "user", "content": question})
        kwargs = dict(model="gpt-5.5", input=history, store=False, instructions=instructions, prompt_cache_key="sdk-bridge-1")
        if n == 1:
            final = None
            with client.responses.create(stream=True, **kwargs) as stream:
                for event in stream:
                    if event.type == "response.completed":
                        final = event.response
            response = final
        else:
            response = client.responses.create(**kwargs)
        history += [item.model_dump(exclude_none=True) for item in response.output]
        cached.append(response.usage.input_tokens_details.cached_tokens)
        texts.append(response.output_text)
    print(json.dumps({"cached": cached, "texts": texts}))


if __name__ == "__main__":
    main()
