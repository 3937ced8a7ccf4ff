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
