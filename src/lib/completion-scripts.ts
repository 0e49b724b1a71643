/**
 * The scripts `meshdbg completion bash|zsh|fish` prints. Each asks `<program> __complete -- <words>`
 * (the program as typed, so ./bin/run.js and renamed builds complete themselves) and reads cobra's
 * protocol: candidates one per line, then `:<directive>` (1 error, 2 no space, 4 no file names).
 */

export const SHELLS = ['bash', 'zsh', 'fish'] as const
export type Shell = (typeof SHELLS)[number]

/** A shell function name from the bin name (`kubectl meshdbg` -> `kubectl_meshdbg`). */
const ident = (bin: string): string => bin.replace(/[^A-Za-z0-9_]/g, '_')

function bash(bin: string): string {
  const fn = `_${ident(bin)}`
  return `# ${bin} completion for bash. Load it now:  source <(${bin} completion bash)
# or for every shell:  ${bin} completion bash > /etc/bash_completion.d/${bin}
${fn}() {
    local cur="\${COMP_WORDS[COMP_CWORD]}" out directive line
    local -a candidates=()
    out=$("\${COMP_WORDS[0]}" __complete -- "\${COMP_WORDS[@]:1:COMP_CWORD}" 2>/dev/null) || return 0
    directive=\${out##*:}
    [[ $directive =~ ^[0-9]+$ ]] || directive=4
    while IFS= read -r line; do
        [[ -n $line && $line != :* ]] && candidates+=("$line")
    done <<< "$out"
    if (( directive & 1 )); then return 0; fi
    if (( \${#candidates[@]} == 0 )); then
        if (( (directive & 4) == 0 )); then
            compopt -o filenames 2>/dev/null
            COMPREPLY=($(compgen -f -- "$cur"))
        fi
        return 0
    fi
    COMPREPLY=("\${candidates[@]}")
    if (( directive & 2 )); then compopt -o nospace 2>/dev/null; fi
    return 0
}
complete -F ${fn} ${bin}
`
}

function zsh(bin: string): string {
  const fn = `_${ident(bin)}`
  return `#compdef ${bin}
# ${bin} completion for zsh. Load it now:  source <(${bin} completion zsh)
# or put it on $fpath as _${bin} (compinit must be loaded).
${fn}() {
    local -a out candidates
    local directive
    out=("\${(@f)$(\${words[1]} __complete -- "\${(@)words[2,CURRENT]}" 2>/dev/null)}")
    directive=\${out[-1]#:}
    [[ $directive == <-> ]] || directive=4
    candidates=("\${(@)out[1,-2]}")
    candidates=("\${(@)candidates:#}")
    (( directive & 1 )) && return 1
    if (( \${#candidates} == 0 )); then
        (( directive & 4 )) || _files
        return
    fi
    if (( directive & 2 )); then
        compadd -S '' -a candidates
    else
        compadd -a candidates
    fi
}
if (( $+functions[compdef] )); then
    compdef ${fn} ${bin}
fi
`
}

function fish(bin: string): string {
  const fn = `__${ident(bin)}_complete`
  return `# ${bin} completion for fish. Load it now:  ${bin} completion fish | source
# or for every shell:  ${bin} completion fish > ~/.config/fish/completions/${bin}.fish
function ${fn}
    set -l tokens (commandline -opc)
    set -l program $tokens[1]
    set -e tokens[1]
    set -l out ($program __complete -- $tokens (commandline -ct) 2>/dev/null)
    set -l directive (string replace -r '^:' '' -- $out[-1])
    string match -qr '^[0-9]+$' -- $directive; or set directive 4
    set -e out[-1]
    if test (math "bitand($directive, 1)") -ne 0
        return
    end
    if test (count $out) -eq 0
        if test (math "bitand($directive, 4)") -eq 0
            __fish_complete_path (commandline -ct)
        end
        return
    end
    printf '%s\\n' $out
end
complete -c ${bin} -f -a '(${fn})'
`
}

export function completionScript(shell: Shell, bin: string): string {
  return shell === 'bash' ? bash(bin) : shell === 'zsh' ? zsh(bin) : fish(bin)
}
