# The engine (glm_cli/data/completion-engine.fish): walks the words typed so far to find the command
# path, then completes a subcommand, an option, an option's value or a positional argument.

function __glm_values --argument-names kind cur prefix
    set -l tokens (commandline -opc)
    set -l glm $tokens[1]
    if not string match -q -- '*/*' $glm; or not test -x $glm
        set glm glm
    end
    switch $kind
        case 'choice:*'
            for c in (string split , -- (string replace -- choice: '' $kind))
                printf '%s\n' "$prefix$c"
            end
        case files
            for p in (__fish_complete_path $cur)
                printf '%s\n' "$prefix$p"
            end
        case none ''
            # free text or a number: nothing to offer, no file names
        case '*'
            # models, presets, conversations…: `glm __complete KIND WORDS…` prints value<TAB>description
            set -l word (commandline -ct)
            for line in ($glm __complete $kind $tokens "$word" 2>/dev/null)
                printf '%s\n' "$prefix$line"
            end
    end
end

function __glm_complete
    set -l tokens (commandline -opc)
    set -l cur (commandline -ct)
    set -l cmdpath ''
    set -l npos 0
    set -l n (count $tokens)
    set -l i 2
    while test $i -le $n
        set -l w $tokens[$i]
        if string match -q -- '-?*' $w
            set -l kind (__glm_kind $cmdpath $w)
            # a value follows, unless this is a flag, --opt=VALUE, or an option whose value needs "=" (kind =…)
            if not string match -q -- '*=*' $w; and test $kind != flag; and not string match -q -- '=*' $kind
                set i (math $i + 1)
            end
        else if contains -- $w (__glm_subs $cmdpath | string replace -r '\t.*' '')
            set cmdpath (string trim -- "$cmdpath $w")
            set npos 0
        else
            set -l default (__glm_default $cmdpath)
            if test -n "$default"
                set cmdpath "$cmdpath $default"
            end
            set npos (math $npos + 1)
        end
        set i (math $i + 1)
    end

    # the value of an option: `--opt VALUE`, `--opt=VALUE`
    if string match -q -- '-?*=*' $cur
        set -l parts (string split -m 1 = -- $cur)
        set -l kind (__glm_kind $cmdpath $parts[1] | string replace -r '^=' '')
        if test $kind != flag
            __glm_values $kind $parts[2] "$parts[1]="
            return
        end
    end
    if test $n -ge 2; and string match -q -- '-?*' $tokens[-1]; and not string match -q -- '*=*' $tokens[-1]
        set -l kind (__glm_kind $cmdpath $tokens[-1])
        if test $kind != flag; and not string match -q -- '=*' $kind
            __glm_values $kind $cur ''
            return
        end
    end

    if string match -q -- '-*' $cur
        __glm_opts $cmdpath
        return
    end
    set -l subs (__glm_subs $cmdpath)
    if test (count $subs) -gt 0
        set -l default (__glm_default $cmdpath)
        if test -n "$default"
            set -l kinds (string split ' ' -- (__glm_args "$cmdpath $default"))
            __glm_values (string trim -r -c '*' -- $kinds[1]) $cur ''
        end
        printf '%s\n' $subs
        return
    end
    set -l kinds (string split ' ' -- (__glm_args $cmdpath))
    test (count $kinds) -gt 0; or return
    if test $npos -lt (count $kinds)
        __glm_values (string trim -r -c '*' -- $kinds[(math $npos + 1)]) $cur ''
    else if string match -q -- '*\*' $kinds[-1]
        __glm_values (string trim -r -c '*' -- $kinds[-1]) $cur ''
    end
end

complete -c glm -e
complete -c glm -f -a '(__glm_complete)'
