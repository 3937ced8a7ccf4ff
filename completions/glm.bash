# bash completion for glm. Install: source it from ~/.bashrc, or save it as
# ~/.local/share/bash-completion/completions/glm
# Generated from the glm commands by `python -m glm_cli.completion`: do not edit.
# `glm completion bash` prints the same for the installed version.

# The command tree: subcommands, options, what each value is.
_glm_subs() {
    case "$1" in
        '') _glm_r='ask chat batch models history config mcp tokens embed auth completion' ;;
        'batch') _glm_r='run submit status list cancel fetch' ;;
        'models') _glm_r='show' ;;
        'history') _glm_r='list show search export rm' ;;
        'config') _glm_r='show path presets init' ;;
        'mcp') _glm_r='list tools' ;;
        'auth') _glm_r='login status logout' ;;
        *) _glm_r='' ;;
    esac
}

_glm_opts() {
    case "$1" in
        '') _glm_r='-h --help --version -V' ;;
        'ask') _glm_r='-h --help --model -m --system -s --preset -p --profile -P --endpoint -e --think --no-think --show-thinking --hide-thinking --temperature -t --top-p --max-tokens --stop --param --json-object --no-json-object --no-stream --output -o --format --json --usage -u --dry-run --file -f --request-id --verbose -v --no-stdin --raw --continue -c --no-log --tool --mcp --mcp-server --yes -y --allow --max-steps --web-search --search-engine --search-count --search-recency --search-domain --schema --extract -x --extract-all --extract-lang --attach -a --resume -r' ;;
        'chat') _glm_r='-h --help --model -m --system -s --profile -P --endpoint -e --think --no-think --show-thinking --hide-thinking --preserve-thinking --no-preserve-thinking --temperature -t --top-p --max-tokens --param --json-object --no-json-object --continue -c --resume -r --no-log --verbose -v --raw --tool --mcp --mcp-server --yes -y --allow --max-steps --web-search --search-engine --search-count --search-recency --search-domain --schema --attach -a' ;;
        'batch') _glm_r='-h --help --text --template -T --model -m --system -s --preset -p --profile -P --endpoint -e --think --no-think --temperature -t --top-p --max-tokens --stop --param --json-object --no-json-object --schema --output -o --concurrency -j --rpm --tpm --ordered --retry-failed --format --max-retries --keep-reasoning --drop-reasoning --stream --limit -n --dry-run --count-tokens --progress --no-progress --verbose -v' ;;
        'batch run') _glm_r='-h --help --text --template -T --model -m --system -s --preset -p --profile -P --endpoint -e --think --no-think --temperature -t --top-p --max-tokens --stop --param --json-object --no-json-object --schema --output -o --concurrency -j --rpm --tpm --ordered --retry-failed --format --max-retries --keep-reasoning --drop-reasoning --stream --limit -n --dry-run --count-tokens --progress --no-progress --verbose -v' ;;
        'batch submit') _glm_r='-h --help --text --template -T --model -m --system -s --preset -p --profile -P --endpoint -e --think --no-think --temperature -t --top-p --max-tokens --stop --param --json-object --no-json-object --schema --description -d --wait --poll --output -o --format --verbose -v' ;;
        'batch status') _glm_r='-h --help --json --profile -P --endpoint -e --verbose -v' ;;
        'batch list') _glm_r='-h --help --limit -n --after --json --profile -P --endpoint -e --verbose -v' ;;
        'batch cancel') _glm_r='-h --help --profile -P --endpoint -e --verbose -v' ;;
        'batch fetch') _glm_r='-h --help --output -o --format --wait --poll --file -f --text --schema --profile -P --endpoint -e --verbose -v' ;;
        'models') _glm_r='-h --help --json --remote --all -a --timeout --endpoint -e --profile -P' ;;
        'models show') _glm_r='-h --help --json --remote --timeout --endpoint -e --profile -P' ;;
        'history') _glm_r='-h --help' ;;
        'history list') _glm_r='-h --help --limit -n --json' ;;
        'history show') _glm_r='-h --help --thinking --json' ;;
        'history search') _glm_r='-h --help --limit -n --json' ;;
        'history export') _glm_r='-h --help --format --json --output -o' ;;
        'history rm') _glm_r='-h --help' ;;
        'config') _glm_r='-h --help' ;;
        'config show') _glm_r='-h --help --profile -P --json' ;;
        'config path') _glm_r='-h --help' ;;
        'config presets') _glm_r='-h --help --profile -P --json' ;;
        'config init') _glm_r='-h --help --force' ;;
        'mcp') _glm_r='-h --help' ;;
        'mcp list') _glm_r='-h --help --profile -P --output -o --format --json' ;;
        'mcp tools') _glm_r='-h --help --profile -P --output -o --format --json --verbose -v' ;;
        'tokens') _glm_r='-h --help --file -f --attach -a --model -m --system -s --profile -P --endpoint -e --no-stdin --json' ;;
        'embed') _glm_r='-h --help --file -f --model -m --dimensions --format --output -o --json --profile -P --endpoint -e --no-stdin --batch --concurrency -j --text --retry-failed --submit' ;;
        'auth') _glm_r='-h --help' ;;
        'auth login') _glm_r='-h --help --profile -P' ;;
        'auth status') _glm_r='-h --help --profile -P --offline --json' ;;
        'auth logout') _glm_r='-h --help --profile -P' ;;
        'completion') _glm_r='-h --help' ;;
        *) _glm_r='' ;;
    esac
}

_glm_kind() {
    case "$1|$2" in
        'ask|--model'|'ask|-m') _glm_r='models' ;;
        'ask|--system'|'ask|-s') _glm_r='none' ;;
        'ask|--preset'|'ask|-p') _glm_r='presets' ;;
        'ask|--profile'|'ask|-P') _glm_r='profiles' ;;
        'ask|--endpoint'|'ask|-e') _glm_r='choice:zai,bigmodel,zai-coding,bigmodel-coding' ;;
        'ask|--temperature'|'ask|-t') _glm_r='none' ;;
        'ask|--top-p') _glm_r='none' ;;
        'ask|--max-tokens') _glm_r='none' ;;
        'ask|--stop') _glm_r='none' ;;
        'ask|--param') _glm_r='none' ;;
        'ask|--output'|'ask|-o') _glm_r='files' ;;
        'ask|--format') _glm_r='choice:text,json' ;;
        'ask|--dry-run') _glm_r='=choice:json,curl' ;;
        'ask|--file'|'ask|-f') _glm_r='files' ;;
        'ask|--request-id') _glm_r='none' ;;
        'ask|--tool') _glm_r='files' ;;
        'ask|--mcp') _glm_r='none' ;;
        'ask|--mcp-server') _glm_r='mcp-servers' ;;
        'ask|--allow') _glm_r='none' ;;
        'ask|--max-steps') _glm_r='none' ;;
        'ask|--search-engine') _glm_r='none' ;;
        'ask|--search-count') _glm_r='none' ;;
        'ask|--search-recency') _glm_r='choice:oneDay,oneWeek,oneMonth,oneYear,noLimit' ;;
        'ask|--search-domain') _glm_r='none' ;;
        'ask|--schema') _glm_r='files' ;;
        'ask|--extract-lang') _glm_r='none' ;;
        'ask|--attach'|'ask|-a') _glm_r='files' ;;
        'ask|--resume'|'ask|-r') _glm_r='conversations' ;;
        'chat|--model'|'chat|-m') _glm_r='models' ;;
        'chat|--system'|'chat|-s') _glm_r='none' ;;
        'chat|--profile'|'chat|-P') _glm_r='profiles' ;;
        'chat|--endpoint'|'chat|-e') _glm_r='choice:zai,bigmodel,zai-coding,bigmodel-coding' ;;
        'chat|--temperature'|'chat|-t') _glm_r='none' ;;
        'chat|--top-p') _glm_r='none' ;;
        'chat|--max-tokens') _glm_r='none' ;;
        'chat|--param') _glm_r='none' ;;
        'chat|--resume'|'chat|-r') _glm_r='conversations' ;;
        'chat|--tool') _glm_r='files' ;;
        'chat|--mcp') _glm_r='none' ;;
        'chat|--mcp-server') _glm_r='mcp-servers' ;;
        'chat|--allow') _glm_r='none' ;;
        'chat|--max-steps') _glm_r='none' ;;
        'chat|--search-engine') _glm_r='none' ;;
        'chat|--search-count') _glm_r='none' ;;
        'chat|--search-recency') _glm_r='choice:oneDay,oneWeek,oneMonth,oneYear,noLimit' ;;
        'chat|--search-domain') _glm_r='none' ;;
        'chat|--schema') _glm_r='files' ;;
        'chat|--attach'|'chat|-a') _glm_r='files' ;;
        'batch|--template'|'batch|-T') _glm_r='none' ;;
        'batch|--model'|'batch|-m') _glm_r='models' ;;
        'batch|--system'|'batch|-s') _glm_r='none' ;;
        'batch|--preset'|'batch|-p') _glm_r='presets' ;;
        'batch|--profile'|'batch|-P') _glm_r='profiles' ;;
        'batch|--endpoint'|'batch|-e') _glm_r='choice:zai,bigmodel,zai-coding,bigmodel-coding' ;;
        'batch|--temperature'|'batch|-t') _glm_r='none' ;;
        'batch|--top-p') _glm_r='none' ;;
        'batch|--max-tokens') _glm_r='none' ;;
        'batch|--stop') _glm_r='none' ;;
        'batch|--param') _glm_r='none' ;;
        'batch|--schema') _glm_r='files' ;;
        'batch|--output'|'batch|-o') _glm_r='files' ;;
        'batch|--concurrency'|'batch|-j') _glm_r='none' ;;
        'batch|--rpm') _glm_r='none' ;;
        'batch|--tpm') _glm_r='none' ;;
        'batch|--format') _glm_r='choice:record,batch-api' ;;
        'batch|--max-retries') _glm_r='none' ;;
        'batch|--limit'|'batch|-n') _glm_r='none' ;;
        'batch run|--template'|'batch run|-T') _glm_r='none' ;;
        'batch run|--model'|'batch run|-m') _glm_r='models' ;;
        'batch run|--system'|'batch run|-s') _glm_r='none' ;;
        'batch run|--preset'|'batch run|-p') _glm_r='presets' ;;
        'batch run|--profile'|'batch run|-P') _glm_r='profiles' ;;
        'batch run|--endpoint'|'batch run|-e') _glm_r='choice:zai,bigmodel,zai-coding,bigmodel-coding' ;;
        'batch run|--temperature'|'batch run|-t') _glm_r='none' ;;
        'batch run|--top-p') _glm_r='none' ;;
        'batch run|--max-tokens') _glm_r='none' ;;
        'batch run|--stop') _glm_r='none' ;;
        'batch run|--param') _glm_r='none' ;;
        'batch run|--schema') _glm_r='files' ;;
        'batch run|--output'|'batch run|-o') _glm_r='files' ;;
        'batch run|--concurrency'|'batch run|-j') _glm_r='none' ;;
        'batch run|--rpm') _glm_r='none' ;;
        'batch run|--tpm') _glm_r='none' ;;
        'batch run|--format') _glm_r='choice:record,batch-api' ;;
        'batch run|--max-retries') _glm_r='none' ;;
        'batch run|--limit'|'batch run|-n') _glm_r='none' ;;
        'batch submit|--template'|'batch submit|-T') _glm_r='none' ;;
        'batch submit|--model'|'batch submit|-m') _glm_r='models' ;;
        'batch submit|--system'|'batch submit|-s') _glm_r='none' ;;
        'batch submit|--preset'|'batch submit|-p') _glm_r='presets' ;;
        'batch submit|--profile'|'batch submit|-P') _glm_r='profiles' ;;
        'batch submit|--endpoint'|'batch submit|-e') _glm_r='choice:zai,bigmodel,zai-coding,bigmodel-coding' ;;
        'batch submit|--temperature'|'batch submit|-t') _glm_r='none' ;;
        'batch submit|--top-p') _glm_r='none' ;;
        'batch submit|--max-tokens') _glm_r='none' ;;
        'batch submit|--stop') _glm_r='none' ;;
        'batch submit|--param') _glm_r='none' ;;
        'batch submit|--schema') _glm_r='files' ;;
        'batch submit|--description'|'batch submit|-d') _glm_r='none' ;;
        'batch submit|--poll') _glm_r='none' ;;
        'batch submit|--output'|'batch submit|-o') _glm_r='files' ;;
        'batch submit|--format') _glm_r='choice:record,batch-api' ;;
        'batch status|--profile'|'batch status|-P') _glm_r='profiles' ;;
        'batch status|--endpoint'|'batch status|-e') _glm_r='choice:zai,bigmodel,zai-coding,bigmodel-coding' ;;
        'batch list|--limit'|'batch list|-n') _glm_r='none' ;;
        'batch list|--after') _glm_r='none' ;;
        'batch list|--profile'|'batch list|-P') _glm_r='profiles' ;;
        'batch list|--endpoint'|'batch list|-e') _glm_r='choice:zai,bigmodel,zai-coding,bigmodel-coding' ;;
        'batch cancel|--profile'|'batch cancel|-P') _glm_r='profiles' ;;
        'batch cancel|--endpoint'|'batch cancel|-e') _glm_r='choice:zai,bigmodel,zai-coding,bigmodel-coding' ;;
        'batch fetch|--output'|'batch fetch|-o') _glm_r='files' ;;
        'batch fetch|--format') _glm_r='choice:record,batch-api' ;;
        'batch fetch|--poll') _glm_r='none' ;;
        'batch fetch|--file'|'batch fetch|-f') _glm_r='files' ;;
        'batch fetch|--schema') _glm_r='files' ;;
        'batch fetch|--profile'|'batch fetch|-P') _glm_r='profiles' ;;
        'batch fetch|--endpoint'|'batch fetch|-e') _glm_r='choice:zai,bigmodel,zai-coding,bigmodel-coding' ;;
        'models|--timeout') _glm_r='none' ;;
        'models|--endpoint'|'models|-e') _glm_r='choice:zai,bigmodel,zai-coding,bigmodel-coding' ;;
        'models|--profile'|'models|-P') _glm_r='profiles' ;;
        'models show|--timeout') _glm_r='none' ;;
        'models show|--endpoint'|'models show|-e') _glm_r='choice:zai,bigmodel,zai-coding,bigmodel-coding' ;;
        'models show|--profile'|'models show|-P') _glm_r='profiles' ;;
        'history list|--limit'|'history list|-n') _glm_r='none' ;;
        'history search|--limit'|'history search|-n') _glm_r='none' ;;
        'history export|--format') _glm_r='choice:markdown,md,json' ;;
        'history export|--output'|'history export|-o') _glm_r='files' ;;
        'config show|--profile'|'config show|-P') _glm_r='profiles' ;;
        'config presets|--profile'|'config presets|-P') _glm_r='profiles' ;;
        'mcp list|--profile'|'mcp list|-P') _glm_r='profiles' ;;
        'mcp list|--output'|'mcp list|-o') _glm_r='files' ;;
        'mcp list|--format') _glm_r='choice:text,json' ;;
        'mcp tools|--profile'|'mcp tools|-P') _glm_r='profiles' ;;
        'mcp tools|--output'|'mcp tools|-o') _glm_r='files' ;;
        'mcp tools|--format') _glm_r='choice:text,json' ;;
        'tokens|--file'|'tokens|-f') _glm_r='files' ;;
        'tokens|--attach'|'tokens|-a') _glm_r='files' ;;
        'tokens|--model'|'tokens|-m') _glm_r='models' ;;
        'tokens|--system'|'tokens|-s') _glm_r='none' ;;
        'tokens|--profile'|'tokens|-P') _glm_r='profiles' ;;
        'tokens|--endpoint'|'tokens|-e') _glm_r='choice:zai,bigmodel,zai-coding,bigmodel-coding' ;;
        'embed|--file'|'embed|-f') _glm_r='files' ;;
        'embed|--model'|'embed|-m') _glm_r='choice:embedding-3,embedding-2' ;;
        'embed|--dimensions') _glm_r='choice:256,512,1024,2048' ;;
        'embed|--format') _glm_r='choice:json,lines' ;;
        'embed|--output'|'embed|-o') _glm_r='files' ;;
        'embed|--profile'|'embed|-P') _glm_r='profiles' ;;
        'embed|--endpoint'|'embed|-e') _glm_r='choice:zai,bigmodel,zai-coding,bigmodel-coding' ;;
        'embed|--batch') _glm_r='files' ;;
        'embed|--concurrency'|'embed|-j') _glm_r='none' ;;
        'auth login|--profile'|'auth login|-P') _glm_r='profiles' ;;
        'auth status|--profile'|'auth status|-P') _glm_r='profiles' ;;
        'auth logout|--profile'|'auth logout|-P') _glm_r='profiles' ;;
        *) _glm_r=flag ;;
    esac
}

_glm_args() {
    case "$1" in
        'ask') _glm_r='none*' ;;
        'batch run') _glm_r='files' ;;
        'batch submit') _glm_r='files' ;;
        'batch status') _glm_r='none*' ;;
        'batch cancel') _glm_r='none*' ;;
        'batch fetch') _glm_r='none*' ;;
        'models show') _glm_r='models' ;;
        'history show') _glm_r='conversations' ;;
        'history search') _glm_r='none*' ;;
        'history export') _glm_r='conversations' ;;
        'history rm') _glm_r='conversations*' ;;
        'config presets') _glm_r='none' ;;
        'mcp tools') _glm_r='mcp-servers' ;;
        'tokens') _glm_r='none*' ;;
        'embed') _glm_r='none*' ;;
        'completion') _glm_r='choice:bash,zsh,fish' ;;
        *) _glm_r='' ;;
    esac
}

_glm_default() {
    case "$1" in
        'batch') _glm_r='run' ;;
        *) _glm_r='' ;;
    esac
}

# The engine (glm_cli/data/completion-engine.bash): walks the words typed so far to find the command
# path, then completes a subcommand, an option, an option's value or a positional argument.

_glm_values() {  # $1 kind, $2 word typed so far: fill COMPREPLY
    local line glm=${COMP_WORDS[0]} IFS=$'\n'
    [[ $glm == */* && -x $glm ]] || glm=glm
    COMPREPLY=()
    case "$1" in
        choice:*)
            line=${1#choice:}
            COMPREPLY=($(compgen -W "${line//,/$'\n'}" -- "$2")) ;;
        files)
            compopt -o filenames 2>/dev/null
            COMPREPLY=($(compgen -f -- "$2")) ;;
        none|'') ;;  # free text or a number: nothing to offer (and bash adds no file names)
        *)  # models, presets, conversations…: `glm __complete KIND WORDS…` prints value<TAB>description
            while IFS= read -r line; do
                line=${line%%$'\t'*}
                [[ $line == "$2"* ]] && COMPREPLY+=("$line")
            done < <("$glm" __complete "$1" "${COMP_WORDS[@]:0:COMP_CWORD+1}" 2>/dev/null) ;;
    esac
}

_glm() {
    local cur=${COMP_WORDS[COMP_CWORD]} prev= opt= path= npos=0 i w kinds last
    local IFS=$' \t\n'
    (( COMP_CWORD > 0 )) && prev=${COMP_WORDS[COMP_CWORD-1]}
    for (( i = 1; i < COMP_CWORD; i++ )); do
        w=${COMP_WORDS[i]}
        if [[ $w == -?* ]]; then
            _glm_kind "$path" "$w"
            if [[ $_glm_r != flag && $_glm_r != =* ]]; then
                # the value is the next word, or the one after "=" (bash splits --opt=value at "=")
                if [[ ${COMP_WORDS[i+1]} == = ]]; then i=$((i + 2)); else i=$((i + 1)); fi
            fi
            continue
        fi
        if [[ $w == = ]]; then i=$((i + 1)); continue; fi  # --flag=value of an optional-value flag
        _glm_subs "$path"
        if [[ -n $_glm_r && " $_glm_r " == *" $w "* ]]; then
            path=${path:+$path }$w; npos=0; continue
        fi
        _glm_default "$path"
        if [[ -n $_glm_r ]]; then path="$path $_glm_r"; fi
        npos=$((npos + 1))
    done

    # the value of an option: `--opt VALUE`, `--opt=VALUE` (a kind "=…" only the latter)
    local eq=
    if [[ $cur == = && $prev == -?* ]]; then
        opt=$prev; cur=; eq=1
    elif [[ $prev == = ]] && (( COMP_CWORD >= 2 )); then
        opt=${COMP_WORDS[COMP_CWORD-2]}; eq=1
    elif [[ $prev == -?* ]]; then
        opt=$prev
    fi
    if [[ -n $opt ]]; then
        _glm_kind "$path" "$opt"
        if [[ $_glm_r == =* ]]; then [[ -n $eq ]] && _glm_r=${_glm_r#=} || _glm_r=flag; fi
        if [[ $_glm_r != flag ]]; then _glm_values "$_glm_r" "$cur"; return 0; fi
    fi

    if [[ $cur == -* ]]; then
        _glm_opts "$path"
        COMPREPLY=($(compgen -W "$_glm_r" -- "$cur"))
        return 0
    fi
    _glm_subs "$path"
    if [[ -n $_glm_r ]]; then
        local subs=$_glm_r
        _glm_default "$path"
        if [[ -n $_glm_r ]]; then
            _glm_args "$path $_glm_r"; kinds=($_glm_r)
            _glm_values "${kinds[0]%\*}" "$cur"
        else
            COMPREPLY=()
        fi
        COMPREPLY+=($(compgen -W "$subs" -- "$cur"))
        return 0
    fi
    _glm_args "$path"; kinds=($_glm_r)
    (( ${#kinds[@]} )) || return 0
    last=${kinds[${#kinds[@]}-1]}
    if (( npos < ${#kinds[@]} )); then
        _glm_values "${kinds[npos]%\*}" "$cur"
    elif [[ $last == *\* ]]; then
        _glm_values "${last%\*}" "$cur"
    fi
    return 0
}

complete -F _glm glm
