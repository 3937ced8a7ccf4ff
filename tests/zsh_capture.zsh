# Drive zsh's real completion system and print what it offers.
# usage: zsh -f tests/zsh_capture.zsh COMPLETION_FILE LINE...
# For each LINE (the text before the cursor; TAB is pressed after it) prints "=== LINE", then one
# candidate per line: "word<TAB>description". One interactive zsh runs in a pseudo-terminal (zpty) with
# compinit loaded and compadd wrapped to report its matches (the zsh-capture-completion technique).
zmodload zsh/zpty || { print -u2 'zsh/zpty module missing'; exit 2 }
local setup=${TMPDIR:-/tmp}/glm-zsh-capture-$$.zsh line input
cat > $setup <<SETUP
PS1= PROMPT= RPROMPT=
unsetopt zle_bracketed_paste 2>/dev/null
autoload -U compinit && compinit -u -D
source ${(q)1}
compadd() {
  if [[ \${@[1,(i)(-|--)]} == *-(O|A|D)\ * ]]; then builtin compadd "\$@"; return \$?; fi
  local -a __hits __dscr; local __d
  if (( \$@[(I)-d] )); then __d=\${@[\$(( \${@[(i)-d]} + 1 ))]}; __dscr=( "\${(@P)__d}" ); fi
  builtin compadd -A __hits -D __dscr "\$@"
  local i; for (( i=1; i <= \$#__hits; i++ )); do print -r -- "CAND:\${__hits[i]}"\$'\t'"\${__dscr[i]}"; done
}
zstyle ':completion:*' list-grouped false
zstyle ':completion:*' insert-tab false
# no listing, no insertion: the candidates are all we want, and the line is cleared after each
_capture_quiet() { compstate[list]=''; compstate[insert]='' }
_capture() { comppostfuncs=(_capture_quiet); zle complete-word; print -r -- "END""CAPTURE" }
zle -N _capture
bindkey '^I' _capture
print -r -- "RE""ADY"
SETUP
zpty z zsh -f -i
zpty -w z "source ${(q)setup}"
while zpty -r z line; do [[ $line == *READY* ]] && break; done
for input in "${@[2,-1]}"; do
  print -r -- "=== $input"
  zpty -w -n z "$input"$'\t'
  while zpty -r z line; do
    [[ $line == *ENDCAPTURE* ]] && break
    [[ $line == *CAND:* ]] && print -r -- "${${line#*CAND:}%%$'\r'*}"
  done
  zpty -w -n z $'\C-u'
done
zpty -d z
rm -f $setup
