#compdef glm
# zsh completion for glm. Install: save it as _glm in a directory on $fpath
# (before compinit runs), or `source` it after compinit
# Generated from the glm commands by `python -m glm_cli.completion`: do not edit.
# `glm completion zsh` prints the same for the installed version.

# The command tree: subcommands, options, what each value is.
_glm_subs() {
  case "$1" in
    ('') reply=('ask:Ask one question; the answer goes to stdout (or -o FILE).' 'chat:Chat interactively; every turn is saved to the history unless --no-log.' 'batch:Run many prompts: locally (concurrent, resumable) or on Zhipu'\''s Batch API.' 'models:List the models glm knows: a table on a terminal, one id per line when piped.' 'history:The saved conversations: every `glm chat` turn and every `glm ask` (unless...' 'config:Show, locate or create the YAML config.' 'mcp:Inspect MCP servers (tools for `glm ask --mcp/--mcp-server`).' 'tokens:Count the tokens of a request (as `glm ask` would send it) with Zhipu'\''s...' 'embed:Print the embedding vector of a text (Zhipu'\''s embedding-3); --batch FILE...' 'auth:Store, check and remove the API key (like `gh auth`).' 'completion:Print the shell completion script (install: see README, "Shell completion").') ;;
    ('batch') reply=('run:Run a JSONL file of prompts concurrently; one JSON record per line to -o...' 'submit:Upload the input to Zhipu'\''s Batch API (split at 50,000 lines / 100 MB); print...' 'status:Show batches: status, done/total, failed, created.' 'list:List recent batches.' 'cancel:Cancel batches (they go to `cancelling`, then `cancelled`).' 'fetch:Download results as local records (appended to -o; ids already ok are skipped).') ;;
    ('models') reply=('show:Everything known about one model, with the source and date of each fact.') ;;
    ('history') reply=('list:List conversations, most recent first (tab-separated when piped).' 'show:Print a conversation as markdown (or JSON).' 'search:Find messages containing every word (case-insensitive substrings; FTS5 when...' 'export:Export a whole conversation, reasoning included, as markdown or JSON.' 'rm:Delete conversations.') ;;
    ('config') reply=('show:Print the effective settings and where each comes from (the key is never shown).' 'path:Print the config file'\''s path.' 'presets:List the presets (built-in and your config'\''s), or print one'\''s definition.' 'init:Write a commented starter config (mode 0600); refuses to overwrite.') ;;
    ('mcp') reply=('list:List the MCP servers: Zhipu'\''s built-in ones and those under `mcp_servers:`.' 'tools:Start a server and list its tools.') ;;
    ('auth') reply=('login:Store a key: typed without echo on a terminal, or the first line of stdin...' 'status:Which key is in effect (masked) and where it comes from, the endpoint, and...' 'logout:Remove the stored key (of the profile).') ;;
    (*) reply=() ;;
  esac
}

_glm_opts() {
  case "$1" in
    ('') reply=('-h:Show help and exit.' '--help:Show help and exit.' '--version:Print the version and exit.' '-V:Print the version and exit.') ;;
    ('ask') reply=('-h:Show help and exit.' '--help:Show help and exit.' '--model:Model id or alias (default glm-4.7).' '-m:Model id or alias (default glm-4.7).' '--system:System prompt.' '-s:System prompt.' '--preset:Use a named preset: built-in or from the config.' '-p:Use a named preset: built-in or from the config.' '--profile:Use a named profile from the config.' '-P:Use a named profile from the config.' '--endpoint:zai, bigmodel, zai-coding or bigmodel-coding.' '-e:zai, bigmodel, zai-coding or bigmodel-coding.' '--think:Turn GLM thinking on or off (sends thinking.type).' '--no-think:Turn GLM thinking on or off (sends thinking.type).' '--show-thinking:Show reasoning on stderr (default: when stderr is a terminal).' '--hide-thinking:Show reasoning on stderr (default: when stderr is a terminal).' '--temperature:Sampling temperature, 0..1.' '-t:Sampling temperature, 0..1.' '--top-p:Nucleus sampling, 0.01..1.' '--max-tokens:Maximum output tokens.' '--stop:Stop sequence (repeatable).' '--param:Send a request field glm has no flag for (repeatable): VALUE is JSON when it pa…' '--json-object:Ask the model for a JSON object (response_format json_object); an answer that d…' '--no-json-object:Ask the model for a JSON object (response_format json_object); an answer that d…' '--no-stream:Wait for the whole answer (one non-streamed request).' '--output:Write the answer to FILE instead of stdout (-).' '-o:Write the answer to FILE instead of stdout (-).' '--format:text (default): the answer; json: one object with content, reasoning, usage…' '--json:Print glm'\''s JSON record (same as --format json).' '--usage:Print tokens and cost on stderr.' '-u:Print tokens and cost on stderr.' '--dry-run:Print the request (JSON), or a curl line with --dry-run=curl; send nothing.' '--file:Attach a text file, fenced and named (repeatable).' '-f:Attach a text file, fenced and named (repeatable).' '--request-id:Send this request_id.' '--verbose:Request/response metadata and timings on stderr.' '-v:Request/response metadata and timings on stderr.' '--no-stdin:Ignore stdin.' '--raw:No markdown rendering, even on a terminal.' '--continue:Continue the last conversation (of ask or chat).' '-c:Continue the last conversation (of ask or chat).' '--no-log:Do not save this conversation to the history.' '--tool:A tool file (YAML/JSON: name, description, parameters, command); repeatable.' '--mcp:Start an MCP server and offer its tools: --mcp "CMD ARGS" (repeatable).' '--mcp-server:Use an MCP server named under mcp_servers: in the config (repeatable).' '--yes:Run every tool call without asking.' '-y:Run every tool call without asking.' '--allow:Run this tool without asking (repeatable); others are asked on a terminal, else…' '--max-steps:Rounds of tool calls before glm gives up (default 8).' '--web-search:Let GLM search the web (built-in web_search tool, billed per search).' '--search-engine:web_search engine (default search-prime on z.ai, search_std on bigmodel).' '--search-count:web_search results, 1-50.' '--search-recency:oneDay, oneWeek, oneMonth, oneYear or noLimit.' '--search-domain:Only search this domain.' '--schema:A JSON Schema (a file, or inline JSON) the answer must match; implies --json-ob…' '--extract:Print only the answer'\''s first fenced code block, raw (none: exit 9).' '-x:Print only the answer'\''s first fenced code block, raw (none: exit 9).' '--extract-all:Print every fenced code block (implies -x).' '--extract-lang:Only code blocks fenced as LANG, e.g. bash (implies -x).' '--attach:Attach an image, video or document for a vision model (repeatable).' '-a:Attach an image, video or document for a vision model (repeatable).' '--resume:Continue that conversation (see `glm history list`) with this prompt.' '-r:Continue that conversation (see `glm history list`) with this prompt.') ;;
    ('chat') reply=('-h:Show help and exit.' '--help:Show help and exit.' '--model:Model id or alias (default glm-4.7).' '-m:Model id or alias (default glm-4.7).' '--system:System prompt.' '-s:System prompt.' '--profile:Use a named profile from the config.' '-P:Use a named profile from the config.' '--endpoint:zai, bigmodel, zai-coding or bigmodel-coding.' '-e:zai, bigmodel, zai-coding or bigmodel-coding.' '--think:Turn GLM thinking on or off (sends thinking.type).' '--no-think:Turn GLM thinking on or off (sends thinking.type).' '--show-thinking:Show reasoning on stderr (default: when stderr is a terminal).' '--hide-thinking:Show reasoning on stderr (default: when stderr is a terminal).' '--preserve-thinking:Send earlier reasoning back (clear_thinking: false; default on the coding endpo…' '--no-preserve-thinking:Send earlier reasoning back (clear_thinking: false; default on the coding endpo…' '--temperature:Sampling temperature, 0..1.' '-t:Sampling temperature, 0..1.' '--top-p:Nucleus sampling, 0.01..1.' '--max-tokens:Maximum output tokens.' '--param:Send a request field glm has no flag for (repeatable): VALUE is JSON when it pa…' '--json-object:Ask the model for a JSON object (response_format json_object); an answer that d…' '--no-json-object:Ask the model for a JSON object (response_format json_object); an answer that d…' '--continue:Continue the last conversation (of ask or chat).' '-c:Continue the last conversation (of ask or chat).' '--resume:Resume a conversation by id or name (see `glm history list`).' '-r:Resume a conversation by id or name (see `glm history list`).' '--no-log:Do not save this conversation to the history.' '--verbose:Request/response metadata and timings on stderr.' '-v:Request/response metadata and timings on stderr.' '--raw:No markdown rendering.' '--tool:A tool file (YAML/JSON: name, description, parameters, command); repeatable.' '--mcp:Start an MCP server and offer its tools: --mcp "CMD ARGS" (repeatable).' '--mcp-server:Use an MCP server named under mcp_servers: in the config (repeatable).' '--yes:Run every tool call without asking.' '-y:Run every tool call without asking.' '--allow:Run this tool without asking (repeatable); others are asked on a terminal, else…' '--max-steps:Rounds of tool calls before glm gives up (default 8).' '--web-search:Let GLM search the web (built-in web_search tool, billed per search).' '--search-engine:web_search engine (default search-prime on z.ai, search_std on bigmodel).' '--search-count:web_search results, 1-50.' '--search-recency:oneDay, oneWeek, oneMonth, oneYear or noLimit.' '--search-domain:Only search this domain.' '--schema:A JSON Schema (a file, or inline JSON) the answer must match; implies --json-ob…' '--attach:Attach an image, video or document to the first message (repeatable; later: /at…' '-a:Attach an image, video or document to the first message (repeatable; later: /at…') ;;
    ('batch') reply=('-h:Show help and exit.' '--help:Show help and exit.' '--text:Plain text input: one prompt per line.' '--template:Prompt template: {input} is the line'\''s prompt, {field} any field of a JSON line.' '-T:Prompt template: {input} is the line'\''s prompt, {field} any field of a JSON line.' '--model:Model id or alias (default glm-4.7).' '-m:Model id or alias (default glm-4.7).' '--system:System prompt.' '-s:System prompt.' '--preset:Use a named preset: built-in or from the config.' '-p:Use a named preset: built-in or from the config.' '--profile:Use a named profile from the config.' '-P:Use a named profile from the config.' '--endpoint:zai, bigmodel, zai-coding or bigmodel-coding.' '-e:zai, bigmodel, zai-coding or bigmodel-coding.' '--think:Turn GLM thinking on or off (sends thinking.type).' '--no-think:Turn GLM thinking on or off (sends thinking.type).' '--temperature:Sampling temperature, 0..1.' '-t:Sampling temperature, 0..1.' '--top-p:Nucleus sampling, 0.01..1.' '--max-tokens:Maximum output tokens.' '--stop:Stop sequence (repeatable).' '--param:Send a request field glm has no flag for (repeatable): VALUE is JSON when it pa…' '--json-object:Ask for JSON objects (response_format json_object); an answer that does not par…' '--no-json-object:Ask for JSON objects (response_format json_object); an answer that does not par…' '--schema:A JSON Schema (a file, or inline JSON) every answer must match; a mismatch is a…' '--output:Write the records to FILE (default stdout); the file is the run'\''s state: rerun …' '-o:Write the records to FILE (default stdout); the file is the run'\''s state: rerun …' '--concurrency:Requests in flight at most.' '-j:Requests in flight at most.' '--rpm:Requests per minute, shared by all workers.' '--tpm:Tokens per minute, shared by all workers.' '--ordered:Write records in input order.' '--retry-failed:Run lines whose record is an error again.' '--format:record: glm'\''s records; batch-api: Zhipu'\''s output-file shape.' '--max-retries:Tries after the first (default 8).' '--keep-reasoning:Keep the reasoning in each record.' '--drop-reasoning:Keep the reasoning in each record.' '--stream:Stream each answer (default: whole answers).' '--limit:Only the first N lines (try a prompt out).' '-n:Only the first N lines (try a prompt out).' '--dry-run:Print each line'\''s request (Batch-API shape); send nothing.' '--count-tokens:With --dry-run: count the input tokens with Zhipu'\''s tokenizer (one free request…' '--progress:Progress bar on stderr (default: when stderr is a terminal).' '--no-progress:Progress bar on stderr (default: when stderr is a terminal).' '--verbose:Request/response metadata and timings on stderr.' '-v:Request/response metadata and timings on stderr.') ;;
    ('batch run') reply=('-h:Show help and exit.' '--help:Show help and exit.' '--text:Plain text input: one prompt per line.' '--template:Prompt template: {input} is the line'\''s prompt, {field} any field of a JSON line.' '-T:Prompt template: {input} is the line'\''s prompt, {field} any field of a JSON line.' '--model:Model id or alias (default glm-4.7).' '-m:Model id or alias (default glm-4.7).' '--system:System prompt.' '-s:System prompt.' '--preset:Use a named preset: built-in or from the config.' '-p:Use a named preset: built-in or from the config.' '--profile:Use a named profile from the config.' '-P:Use a named profile from the config.' '--endpoint:zai, bigmodel, zai-coding or bigmodel-coding.' '-e:zai, bigmodel, zai-coding or bigmodel-coding.' '--think:Turn GLM thinking on or off (sends thinking.type).' '--no-think:Turn GLM thinking on or off (sends thinking.type).' '--temperature:Sampling temperature, 0..1.' '-t:Sampling temperature, 0..1.' '--top-p:Nucleus sampling, 0.01..1.' '--max-tokens:Maximum output tokens.' '--stop:Stop sequence (repeatable).' '--param:Send a request field glm has no flag for (repeatable): VALUE is JSON when it pa…' '--json-object:Ask for JSON objects (response_format json_object); an answer that does not par…' '--no-json-object:Ask for JSON objects (response_format json_object); an answer that does not par…' '--schema:A JSON Schema (a file, or inline JSON) every answer must match; a mismatch is a…' '--output:Write the records to FILE (default stdout); the file is the run'\''s state: rerun …' '-o:Write the records to FILE (default stdout); the file is the run'\''s state: rerun …' '--concurrency:Requests in flight at most.' '-j:Requests in flight at most.' '--rpm:Requests per minute, shared by all workers.' '--tpm:Tokens per minute, shared by all workers.' '--ordered:Write records in input order.' '--retry-failed:Run lines whose record is an error again.' '--format:record: glm'\''s records; batch-api: Zhipu'\''s output-file shape.' '--max-retries:Tries after the first (default 8).' '--keep-reasoning:Keep the reasoning in each record.' '--drop-reasoning:Keep the reasoning in each record.' '--stream:Stream each answer (default: whole answers).' '--limit:Only the first N lines (try a prompt out).' '-n:Only the first N lines (try a prompt out).' '--dry-run:Print each line'\''s request (Batch-API shape); send nothing.' '--count-tokens:With --dry-run: count the input tokens with Zhipu'\''s tokenizer (one free request…' '--progress:Progress bar on stderr (default: when stderr is a terminal).' '--no-progress:Progress bar on stderr (default: when stderr is a terminal).' '--verbose:Request/response metadata and timings on stderr.' '-v:Request/response metadata and timings on stderr.') ;;
    ('batch submit') reply=('-h:Show help and exit.' '--help:Show help and exit.' '--text:Plain text input: one prompt per line.' '--template:Prompt template: {input} is the line'\''s prompt, {field} any field of a JSON line.' '-T:Prompt template: {input} is the line'\''s prompt, {field} any field of a JSON line.' '--model:Model id or alias (default glm-4.7).' '-m:Model id or alias (default glm-4.7).' '--system:System prompt.' '-s:System prompt.' '--preset:Use a named preset: built-in or from the config.' '-p:Use a named preset: built-in or from the config.' '--profile:Use a named profile from the config.' '-P:Use a named profile from the config.' '--endpoint:zai, bigmodel, zai-coding or bigmodel-coding.' '-e:zai, bigmodel, zai-coding or bigmodel-coding.' '--think:Turn GLM thinking on or off (sends thinking.type).' '--no-think:Turn GLM thinking on or off (sends thinking.type).' '--temperature:Sampling temperature, 0..1.' '-t:Sampling temperature, 0..1.' '--top-p:Nucleus sampling, 0.01..1.' '--max-tokens:Maximum output tokens.' '--stop:Stop sequence (repeatable).' '--param:Send a request field glm has no flag for (repeatable): VALUE is JSON when it pa…' '--json-object:Ask for JSON objects (response_format json_object); an answer that does not par…' '--no-json-object:Ask for JSON objects (response_format json_object); an answer that does not par…' '--schema:A JSON Schema (a file, or inline JSON) every answer must match; a mismatch is a…' '--description:Stored in the batch metadata.' '-d:Stored in the batch metadata.' '--wait:Poll until the batches finish.' '--poll:Seconds between polls with --wait.' '--output:With --wait: then fetch the records into FILE.' '-o:With --wait: then fetch the records into FILE.' '--format:record: glm'\''s records; batch-api: Zhipu'\''s output-file shape.' '--verbose:Request/response metadata and timings on stderr.' '-v:Request/response metadata and timings on stderr.') ;;
    ('batch status') reply=('-h:Show help and exit.' '--help:Show help and exit.' '--json:Print the API'\''s JSON objects.' '--profile:Use a named profile from the config.' '-P:Use a named profile from the config.' '--endpoint:zai, bigmodel, zai-coding or bigmodel-coding.' '-e:zai, bigmodel, zai-coding or bigmodel-coding.' '--verbose:Request/response metadata and timings on stderr.' '-v:Request/response metadata and timings on stderr.') ;;
    ('batch list') reply=('-h:Show help and exit.' '--help:Show help and exit.' '--limit:How many (1-100).' '-n:How many (1-100).' '--after:Start after this batch id.' '--json:Print the API'\''s JSON objects.' '--profile:Use a named profile from the config.' '-P:Use a named profile from the config.' '--endpoint:zai, bigmodel, zai-coding or bigmodel-coding.' '-e:zai, bigmodel, zai-coding or bigmodel-coding.' '--verbose:Request/response metadata and timings on stderr.' '-v:Request/response metadata and timings on stderr.') ;;
    ('batch cancel') reply=('-h:Show help and exit.' '--help:Show help and exit.' '--profile:Use a named profile from the config.' '-P:Use a named profile from the config.' '--endpoint:zai, bigmodel, zai-coding or bigmodel-coding.' '-e:zai, bigmodel, zai-coding or bigmodel-coding.' '--verbose:Request/response metadata and timings on stderr.' '-v:Request/response metadata and timings on stderr.') ;;
    ('batch fetch') reply=('-h:Show help and exit.' '--help:Show help and exit.' '--output:Write the records to FILE (default stdout); appended, ids already ok are skippe…' '-o:Write the records to FILE (default stdout); appended, ids already ok are skippe…' '--format:record: glm'\''s records; batch-api: Zhipu'\''s output-file shape.' '--wait:Poll until the batches finish.' '--poll:Seconds between polls with --wait.' '--file:The submitted input, to name the lines without a result.' '-f:The submitted input, to name the lines without a result.' '--text:Plain text input: one prompt per line.' '--schema:A JSON Schema (a file, or inline JSON) to check each answer; a mismatch is an e…' '--profile:Use a named profile from the config.' '-P:Use a named profile from the config.' '--endpoint:zai, bigmodel, zai-coding or bigmodel-coding.' '-e:zai, bigmodel, zai-coding or bigmodel-coding.' '--verbose:Request/response metadata and timings on stderr.' '-v:Request/response metadata and timings on stderr.') ;;
    ('models') reply=('-h:Show help and exit.' '--help:Show help and exit.' '--json:Print the whole catalogue as JSON (retired models and aliases too).' '--remote:Also ask the endpoint'\''s GET /models (a warning if it fails).' '--all:Include retired models.' '-a:Include retired models.' '--timeout:Seconds to wait for --remote.' '--endpoint:zai, bigmodel, zai-coding or bigmodel-coding.' '-e:zai, bigmodel, zai-coding or bigmodel-coding.' '--profile:Use a named profile from the config.' '-P:Use a named profile from the config.') ;;
    ('models show') reply=('-h:Show help and exit.' '--help:Show help and exit.' '--json:Print this model as JSON, with the source of each fact.' '--remote:Also ask the endpoint'\''s GET /models (a warning if it fails).' '--timeout:Seconds to wait for --remote.' '--endpoint:zai, bigmodel, zai-coding or bigmodel-coding.' '-e:zai, bigmodel, zai-coding or bigmodel-coding.' '--profile:Use a named profile from the config.' '-P:Use a named profile from the config.') ;;
    ('history') reply=('-h:Show help and exit.' '--help:Show help and exit.') ;;
    ('history list') reply=('-h:Show help and exit.' '--help:Show help and exit.' '--limit:How many (0: all).' '-n:How many (0: all).' '--json:Print JSON.') ;;
    ('history show') reply=('-h:Show help and exit.' '--help:Show help and exit.' '--thinking:Include reasoning.' '--json:Print JSON.') ;;
    ('history search') reply=('-h:Show help and exit.' '--help:Show help and exit.' '--limit:Most hits (0: all).' '-n:Most hits (0: all).' '--json:Print JSON.') ;;
    ('history export') reply=('-h:Show help and exit.' '--help:Show help and exit.' '--format:markdown (default) or json.' '--json:Export JSON (same as --format json).' '--output:Write the export to FILE instead of stdout (-).' '-o:Write the export to FILE instead of stdout (-).') ;;
    ('history rm') reply=('-h:Show help and exit.' '--help:Show help and exit.') ;;
    ('config') reply=('-h:Show help and exit.' '--help:Show help and exit.') ;;
    ('config show') reply=('-h:Show help and exit.' '--help:Show help and exit.' '--profile:Use a named profile from the config.' '-P:Use a named profile from the config.' '--json:Print JSON: each setting'\''s value and source.') ;;
    ('config path') reply=('-h:Show help and exit.' '--help:Show help and exit.') ;;
    ('config presets') reply=('-h:Show help and exit.' '--help:Show help and exit.' '--profile:Use a named profile from the config.' '-P:Use a named profile from the config.' '--json:Print JSON: each preset'\''s fields and where it is defined.') ;;
    ('config init') reply=('-h:Show help and exit.' '--help:Show help and exit.' '--force:Overwrite an existing file.') ;;
    ('mcp') reply=('-h:Show help and exit.' '--help:Show help and exit.') ;;
    ('mcp list') reply=('-h:Show help and exit.' '--help:Show help and exit.' '--profile:Use a named profile from the config.' '-P:Use a named profile from the config.' '--output:Write the listing to FILE instead of stdout (-).' '-o:Write the listing to FILE instead of stdout (-).' '--format:text (default) or json.' '--json:Print JSON (same as --format json).') ;;
    ('mcp tools') reply=('-h:Show help and exit.' '--help:Show help and exit.' '--profile:Use a named profile from the config.' '-P:Use a named profile from the config.' '--output:Write the listing to FILE instead of stdout (-).' '-o:Write the listing to FILE instead of stdout (-).' '--format:text (default) or json.' '--json:Print JSON (same as --format json).' '--verbose:Request/response metadata and timings on stderr.' '-v:Request/response metadata and timings on stderr.') ;;
    ('tokens') reply=('-h:Show help and exit.' '--help:Show help and exit.' '--file:A text file, fenced and named as ask adds it (repeatable).' '-f:A text file, fenced and named as ask adds it (repeatable).' '--attach:An image, video or document (repeatable).' '-a:An image, video or document (repeatable).' '--model:Model id or alias (default glm-4.7).' '-m:Model id or alias (default glm-4.7).' '--system:System prompt.' '-s:System prompt.' '--profile:Use a named profile from the config.' '-P:Use a named profile from the config.' '--endpoint:zai, bigmodel, zai-coding or bigmodel-coding.' '-e:zai, bigmodel, zai-coding or bigmodel-coding.' '--no-stdin:Ignore stdin.' '--json:One JSON object, for scripts.') ;;
    ('embed') reply=('-h:Show help and exit.' '--help:Show help and exit.' '--file:Embed this file'\''s text.' '-f:Embed this file'\''s text.' '--model:embedding-3 (default) or embedding-2.' '-m:embedding-3 (default) or embedding-2.' '--dimensions:256, 512, 1024 or 2048 (embedding-3; default 2048).' '--format:json: one JSON array (default); lines: one number per line.' '--output:Write the result to FILE (- is stdout, the default).' '-o:Write the result to FILE (- is stdout, the default).' '--json:One JSON object: model, dimensions, embedding, usage.' '--profile:Use a named profile from the config.' '-P:Use a named profile from the config.' '--endpoint:zai, bigmodel, zai-coding or bigmodel-coding.' '-e:zai, bigmodel, zai-coding or bigmodel-coding.' '--no-stdin:Ignore stdin.' '--batch:Embed every line of FILE (JSONL; - = stdin): one record each, to -o.' '--concurrency:--batch: requests in flight.' '-j:--batch: requests in flight.' '--text:--batch: one text per plain line.' '--retry-failed:--batch: run lines that failed before.' '--submit:--batch: send the lines to Zhipu'\''s Batch API instead (half price); print the ba…') ;;
    ('auth') reply=('-h:Show help and exit.' '--help:Show help and exit.') ;;
    ('auth login') reply=('-h:Show help and exit.' '--help:Show help and exit.' '--profile:Use a named profile from the config.' '-P:Use a named profile from the config.') ;;
    ('auth status') reply=('-h:Show help and exit.' '--help:Show help and exit.' '--profile:Use a named profile from the config.' '-P:Use a named profile from the config.' '--offline:Do not test the key with a request.' '--json:One JSON object, for scripts.') ;;
    ('auth logout') reply=('-h:Show help and exit.' '--help:Show help and exit.' '--profile:Use a named profile from the config.' '-P:Use a named profile from the config.') ;;
    ('completion') reply=('-h:Show help and exit.' '--help:Show help and exit.') ;;
    (*) reply=() ;;
  esac
}

_glm_kind() {
  case "$1|$2" in
    ('ask|--model'|'ask|-m') REPLY='models' ;;
    ('ask|--system'|'ask|-s') REPLY='none' ;;
    ('ask|--preset'|'ask|-p') REPLY='presets' ;;
    ('ask|--profile'|'ask|-P') REPLY='profiles' ;;
    ('ask|--endpoint'|'ask|-e') REPLY='choice:zai,bigmodel,zai-coding,bigmodel-coding' ;;
    ('ask|--temperature'|'ask|-t') REPLY='none' ;;
    ('ask|--top-p') REPLY='none' ;;
    ('ask|--max-tokens') REPLY='none' ;;
    ('ask|--stop') REPLY='none' ;;
    ('ask|--param') REPLY='none' ;;
    ('ask|--output'|'ask|-o') REPLY='files' ;;
    ('ask|--format') REPLY='choice:text,json' ;;
    ('ask|--dry-run') REPLY='=choice:json,curl' ;;
    ('ask|--file'|'ask|-f') REPLY='files' ;;
    ('ask|--request-id') REPLY='none' ;;
    ('ask|--tool') REPLY='files' ;;
    ('ask|--mcp') REPLY='none' ;;
    ('ask|--mcp-server') REPLY='mcp-servers' ;;
    ('ask|--allow') REPLY='none' ;;
    ('ask|--max-steps') REPLY='none' ;;
    ('ask|--search-engine') REPLY='none' ;;
    ('ask|--search-count') REPLY='none' ;;
    ('ask|--search-recency') REPLY='choice:oneDay,oneWeek,oneMonth,oneYear,noLimit' ;;
    ('ask|--search-domain') REPLY='none' ;;
    ('ask|--schema') REPLY='files' ;;
    ('ask|--extract-lang') REPLY='none' ;;
    ('ask|--attach'|'ask|-a') REPLY='files' ;;
    ('ask|--resume'|'ask|-r') REPLY='conversations' ;;
    ('chat|--model'|'chat|-m') REPLY='models' ;;
    ('chat|--system'|'chat|-s') REPLY='none' ;;
    ('chat|--profile'|'chat|-P') REPLY='profiles' ;;
    ('chat|--endpoint'|'chat|-e') REPLY='choice:zai,bigmodel,zai-coding,bigmodel-coding' ;;
    ('chat|--temperature'|'chat|-t') REPLY='none' ;;
    ('chat|--top-p') REPLY='none' ;;
    ('chat|--max-tokens') REPLY='none' ;;
    ('chat|--param') REPLY='none' ;;
    ('chat|--resume'|'chat|-r') REPLY='conversations' ;;
    ('chat|--tool') REPLY='files' ;;
    ('chat|--mcp') REPLY='none' ;;
    ('chat|--mcp-server') REPLY='mcp-servers' ;;
    ('chat|--allow') REPLY='none' ;;
    ('chat|--max-steps') REPLY='none' ;;
    ('chat|--search-engine') REPLY='none' ;;
    ('chat|--search-count') REPLY='none' ;;
    ('chat|--search-recency') REPLY='choice:oneDay,oneWeek,oneMonth,oneYear,noLimit' ;;
    ('chat|--search-domain') REPLY='none' ;;
    ('chat|--schema') REPLY='files' ;;
    ('chat|--attach'|'chat|-a') REPLY='files' ;;
    ('batch|--template'|'batch|-T') REPLY='none' ;;
    ('batch|--model'|'batch|-m') REPLY='models' ;;
    ('batch|--system'|'batch|-s') REPLY='none' ;;
    ('batch|--preset'|'batch|-p') REPLY='presets' ;;
    ('batch|--profile'|'batch|-P') REPLY='profiles' ;;
    ('batch|--endpoint'|'batch|-e') REPLY='choice:zai,bigmodel,zai-coding,bigmodel-coding' ;;
    ('batch|--temperature'|'batch|-t') REPLY='none' ;;
    ('batch|--top-p') REPLY='none' ;;
    ('batch|--max-tokens') REPLY='none' ;;
    ('batch|--stop') REPLY='none' ;;
    ('batch|--param') REPLY='none' ;;
    ('batch|--schema') REPLY='files' ;;
    ('batch|--output'|'batch|-o') REPLY='files' ;;
    ('batch|--concurrency'|'batch|-j') REPLY='none' ;;
    ('batch|--rpm') REPLY='none' ;;
    ('batch|--tpm') REPLY='none' ;;
    ('batch|--format') REPLY='choice:record,batch-api' ;;
    ('batch|--max-retries') REPLY='none' ;;
    ('batch|--limit'|'batch|-n') REPLY='none' ;;
    ('batch run|--template'|'batch run|-T') REPLY='none' ;;
    ('batch run|--model'|'batch run|-m') REPLY='models' ;;
    ('batch run|--system'|'batch run|-s') REPLY='none' ;;
    ('batch run|--preset'|'batch run|-p') REPLY='presets' ;;
    ('batch run|--profile'|'batch run|-P') REPLY='profiles' ;;
    ('batch run|--endpoint'|'batch run|-e') REPLY='choice:zai,bigmodel,zai-coding,bigmodel-coding' ;;
    ('batch run|--temperature'|'batch run|-t') REPLY='none' ;;
    ('batch run|--top-p') REPLY='none' ;;
    ('batch run|--max-tokens') REPLY='none' ;;
    ('batch run|--stop') REPLY='none' ;;
    ('batch run|--param') REPLY='none' ;;
    ('batch run|--schema') REPLY='files' ;;
    ('batch run|--output'|'batch run|-o') REPLY='files' ;;
    ('batch run|--concurrency'|'batch run|-j') REPLY='none' ;;
    ('batch run|--rpm') REPLY='none' ;;
    ('batch run|--tpm') REPLY='none' ;;
    ('batch run|--format') REPLY='choice:record,batch-api' ;;
    ('batch run|--max-retries') REPLY='none' ;;
    ('batch run|--limit'|'batch run|-n') REPLY='none' ;;
    ('batch submit|--template'|'batch submit|-T') REPLY='none' ;;
    ('batch submit|--model'|'batch submit|-m') REPLY='models' ;;
    ('batch submit|--system'|'batch submit|-s') REPLY='none' ;;
    ('batch submit|--preset'|'batch submit|-p') REPLY='presets' ;;
    ('batch submit|--profile'|'batch submit|-P') REPLY='profiles' ;;
    ('batch submit|--endpoint'|'batch submit|-e') REPLY='choice:zai,bigmodel,zai-coding,bigmodel-coding' ;;
    ('batch submit|--temperature'|'batch submit|-t') REPLY='none' ;;
    ('batch submit|--top-p') REPLY='none' ;;
    ('batch submit|--max-tokens') REPLY='none' ;;
    ('batch submit|--stop') REPLY='none' ;;
    ('batch submit|--param') REPLY='none' ;;
    ('batch submit|--schema') REPLY='files' ;;
    ('batch submit|--description'|'batch submit|-d') REPLY='none' ;;
    ('batch submit|--poll') REPLY='none' ;;
    ('batch submit|--output'|'batch submit|-o') REPLY='files' ;;
    ('batch submit|--format') REPLY='choice:record,batch-api' ;;
    ('batch status|--profile'|'batch status|-P') REPLY='profiles' ;;
    ('batch status|--endpoint'|'batch status|-e') REPLY='choice:zai,bigmodel,zai-coding,bigmodel-coding' ;;
    ('batch list|--limit'|'batch list|-n') REPLY='none' ;;
    ('batch list|--after') REPLY='none' ;;
    ('batch list|--profile'|'batch list|-P') REPLY='profiles' ;;
    ('batch list|--endpoint'|'batch list|-e') REPLY='choice:zai,bigmodel,zai-coding,bigmodel-coding' ;;
    ('batch cancel|--profile'|'batch cancel|-P') REPLY='profiles' ;;
    ('batch cancel|--endpoint'|'batch cancel|-e') REPLY='choice:zai,bigmodel,zai-coding,bigmodel-coding' ;;
    ('batch fetch|--output'|'batch fetch|-o') REPLY='files' ;;
    ('batch fetch|--format') REPLY='choice:record,batch-api' ;;
    ('batch fetch|--poll') REPLY='none' ;;
    ('batch fetch|--file'|'batch fetch|-f') REPLY='files' ;;
    ('batch fetch|--schema') REPLY='files' ;;
    ('batch fetch|--profile'|'batch fetch|-P') REPLY='profiles' ;;
    ('batch fetch|--endpoint'|'batch fetch|-e') REPLY='choice:zai,bigmodel,zai-coding,bigmodel-coding' ;;
    ('models|--timeout') REPLY='none' ;;
    ('models|--endpoint'|'models|-e') REPLY='choice:zai,bigmodel,zai-coding,bigmodel-coding' ;;
    ('models|--profile'|'models|-P') REPLY='profiles' ;;
    ('models show|--timeout') REPLY='none' ;;
    ('models show|--endpoint'|'models show|-e') REPLY='choice:zai,bigmodel,zai-coding,bigmodel-coding' ;;
    ('models show|--profile'|'models show|-P') REPLY='profiles' ;;
    ('history list|--limit'|'history list|-n') REPLY='none' ;;
    ('history search|--limit'|'history search|-n') REPLY='none' ;;
    ('history export|--format') REPLY='choice:markdown,md,json' ;;
    ('history export|--output'|'history export|-o') REPLY='files' ;;
    ('config show|--profile'|'config show|-P') REPLY='profiles' ;;
    ('config presets|--profile'|'config presets|-P') REPLY='profiles' ;;
    ('mcp list|--profile'|'mcp list|-P') REPLY='profiles' ;;
    ('mcp list|--output'|'mcp list|-o') REPLY='files' ;;
    ('mcp list|--format') REPLY='choice:text,json' ;;
    ('mcp tools|--profile'|'mcp tools|-P') REPLY='profiles' ;;
    ('mcp tools|--output'|'mcp tools|-o') REPLY='files' ;;
    ('mcp tools|--format') REPLY='choice:text,json' ;;
    ('tokens|--file'|'tokens|-f') REPLY='files' ;;
    ('tokens|--attach'|'tokens|-a') REPLY='files' ;;
    ('tokens|--model'|'tokens|-m') REPLY='models' ;;
    ('tokens|--system'|'tokens|-s') REPLY='none' ;;
    ('tokens|--profile'|'tokens|-P') REPLY='profiles' ;;
    ('tokens|--endpoint'|'tokens|-e') REPLY='choice:zai,bigmodel,zai-coding,bigmodel-coding' ;;
    ('embed|--file'|'embed|-f') REPLY='files' ;;
    ('embed|--model'|'embed|-m') REPLY='choice:embedding-3,embedding-2' ;;
    ('embed|--dimensions') REPLY='choice:256,512,1024,2048' ;;
    ('embed|--format') REPLY='choice:json,lines' ;;
    ('embed|--output'|'embed|-o') REPLY='files' ;;
    ('embed|--profile'|'embed|-P') REPLY='profiles' ;;
    ('embed|--endpoint'|'embed|-e') REPLY='choice:zai,bigmodel,zai-coding,bigmodel-coding' ;;
    ('embed|--batch') REPLY='files' ;;
    ('embed|--concurrency'|'embed|-j') REPLY='none' ;;
    ('auth login|--profile'|'auth login|-P') REPLY='profiles' ;;
    ('auth status|--profile'|'auth status|-P') REPLY='profiles' ;;
    ('auth logout|--profile'|'auth logout|-P') REPLY='profiles' ;;
    (*) REPLY=flag ;;
  esac
}

_glm_args() {
  case "$1" in
    ('ask') REPLY='none*' ;;
    ('batch run') REPLY='files' ;;
    ('batch submit') REPLY='files' ;;
    ('batch status') REPLY='none*' ;;
    ('batch cancel') REPLY='none*' ;;
    ('batch fetch') REPLY='none*' ;;
    ('models show') REPLY='models' ;;
    ('history show') REPLY='conversations' ;;
    ('history search') REPLY='none*' ;;
    ('history export') REPLY='conversations' ;;
    ('history rm') REPLY='conversations*' ;;
    ('config presets') REPLY='none' ;;
    ('mcp tools') REPLY='mcp-servers' ;;
    ('tokens') REPLY='none*' ;;
    ('embed') REPLY='none*' ;;
    ('completion') REPLY='choice:bash,zsh,fish' ;;
    (*) REPLY='' ;;
  esac
}

_glm_default() {
  case "$1" in
    ('batch') REPLY='run' ;;
    (*) REPLY='' ;;
  esac
}

# The engine (glm_cli/data/completion-engine.zsh): walks the words typed so far to find the command
# path, then completes a subcommand, an option, an option's value or a positional argument.

_glm_values() {  # $1 kind
  local glm=${words[1]} line
  local -a items
  [[ $glm == */* && -x $glm ]] || glm=glm
  case $1 in
    (choice:*)
      items=(${(s:,:)${1#choice:}})
      _describe -t values value items ;;
    (files)
      _files ;;
    (none|'')  # free text or a number: nothing to offer, no file names
      _message value ;;
    (*)  # models, presets, conversations…: `glm __complete KIND WORDS…` prints value<TAB>description
      for line in ${(f)"$("$glm" __complete $1 "${(@)words[1,CURRENT]}" 2>/dev/null)"}; do
        if [[ $line == *$'\t'* ]]; then
          items+=("${${line%%$'\t'*}//:/\\:}:${line#*$'\t'}")
        else
          items+=("${line//:/\\:}")
        fi
      done
      _describe -t $1 ${1%s} items ;;
  esac
}

_glm() {
  local cmdpath= npos=0 i w cur=${words[CURRENT]} prev=${words[CURRENT-1]}
  local -a kinds subs
  for (( i = 2; i < CURRENT; i++ )); do
    w=${words[i]}
    if [[ $w == -?* ]]; then
      [[ $w == *=* ]] && continue
      _glm_kind "$cmdpath" "$w"
      [[ $REPLY != flag && $REPLY != '='* ]] && i=$(( i + 1 ))
      continue
    fi
    _glm_subs "$cmdpath"
    if (( ${#reply} )) && (( ${reply[(I)${(b)w}:*]} )); then
      cmdpath=${cmdpath:+$cmdpath }$w; npos=0; continue
    fi
    _glm_default "$cmdpath"
    [[ -n $REPLY ]] && cmdpath="$cmdpath $REPLY"
    npos=$(( npos + 1 ))
  done

  # the value of an option: `--opt VALUE`, `--opt=VALUE`
  if [[ $cur == -?*=* ]]; then
    _glm_kind "$cmdpath" "${cur%%=*}"
    if [[ $REPLY != flag ]]; then compset -P '*='; _glm_values ${REPLY#=}; return; fi
  fi
  if [[ $prev == -?* && $prev != *=* ]] && (( CURRENT > 2 )); then
    _glm_kind "$cmdpath" "$prev"
    if [[ $REPLY != flag && $REPLY != '='* ]]; then _glm_values $REPLY; return; fi
  fi

  if [[ $cur == -* ]]; then
    _glm_opts "$cmdpath"
    _describe -t options option reply
    return
  fi
  _glm_subs "$cmdpath"
  if (( ${#reply} )); then
    subs=("${reply[@]}")
    _glm_default "$cmdpath"
    if [[ -n $REPLY ]]; then
      _glm_args "$cmdpath $REPLY"; kinds=(${=REPLY})
      _glm_values ${kinds[1]%\*}
    fi
    _describe -t commands command subs
    return
  fi
  _glm_args "$cmdpath"; kinds=(${=REPLY})
  (( ${#kinds} )) || return 1
  if (( npos < ${#kinds} )); then
    _glm_values ${kinds[npos+1]%\*}
  elif [[ ${kinds[-1]} == *\* ]]; then
    _glm_values ${kinds[-1]%\*}
  fi
}

if [ "$funcstack[1]" = "_glm" ]; then _glm "$@"; else compdef _glm glm; fi
