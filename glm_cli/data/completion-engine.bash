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
