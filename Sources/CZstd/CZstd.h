/* libzstd, used only to decode the zstd request bodies Codex sends with ChatGPT login. */
#include <zstd.h>
