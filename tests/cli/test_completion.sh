#!/usr/bin/env bash
# Shell completion: generated from the tool's own command and option tables, so a new
# command or option completes without anyone editing a script.
. "$(dirname "$0")/lib.sh"

# complete WORDS...: what bash completes for `romfs WORDS...` (the last word is the one
# being typed), one candidate per line.
complete_bash() {
    "$ROMFS" completion bash > romfs.bash
    mkdir -p bin && ln -sf "$ROMFS" bin/romfs
    PATH="$PWD/bin:$PATH" bash -c '
        . ./romfs.bash
        COMP_WORDS=(romfs "$@"); COMP_CWORD=$#
        _romfs
        printf "%s\n" "${COMPREPLY[@]}"' _ "$@"
}

bash_completes_commands_options_and_boards() {
    complete_bash pa > got.txt
    assert_eq "$(cat got.txt)" "pack"
    complete_bash pack --align > got.txt
    grep -qx -- --align got.txt && grep -qx -- --align-rule got.txt || fail "$(cat got.txt)"
    complete_bash check app.romfs --board PYBD_SF > got.txt
    grep -qx PYBD_SF2 got.txt && grep -qx PYBD_SF6 got.txt || fail "boards: $(cat got.txt)"
    ! grep -qv '^PYBD_SF' got.txt || fail "not a PYBD_SF board: $(cat got.txt)"
    complete_bash boards sh > got.txt
    assert_eq "$(cat got.txt)" "show"
    complete_bash boards show RPI_PICO > got.txt
    grep -qx RPI_PICO got.txt || fail "boards show: $(cat got.txt)"
    complete_bash flash app/ --via=swd --openocd-t > got.txt
    assert_eq "$(cat got.txt)" "--openocd-target"
}

every_command_and_option_is_in_the_scripts() {
    "$ROMFS" completion bash > romfs.bash
    "$ROMFS" completion zsh > _romfs
    "$ROMFS" --help | sed -n 's/^  \([a-z]*\)  .*/\1/p' > commands.txt
    [ "$(wc -l < commands.txt)" -ge 15 ] || fail "too few commands in --help"
    while read -r c; do
        grep -q "^    $c) opts=" romfs.bash || fail "bash script lacks $c"
        grep -q "^    $c) opts=(" _romfs || fail "zsh script lacks $c"
        # every long option the command's --help describes (at the start of a line) is offered
        "$ROMFS" "$c" --help > help.txt
        sed -nE 's/^ +(-[a-zA-Z], )?(--[a-z][a-z0-9-]*).*/\2/p' help.txt | sort -u > described.txt
        grep "^    $c) opts=" romfs.bash > offered.txt
        while read -r o; do
            grep -q -- " $o[ \"]\|=\"$o[ \"]" offered.txt || fail "bash: $c lacks $o"
        done < described.txt
    done < commands.txt
}

zsh_script_completes_when_zsh_is_there() {
    if ! command -v zsh >/dev/null; then
        echo "SKIP zsh_script_completes_when_zsh_is_there: zsh is not installed"
        return 0
    fi
    "$ROMFS" completion zsh > _romfs
    zsh -n _romfs
    mkdir -p bin && ln -sf "$ROMFS" bin/romfs
    # Run the completion function with zsh's completion builtins replaced by printers.
    PATH="$PWD/bin:$PATH" zsh -f -c '
        compadd() { [[ $1 == -- ]] && shift; print -l -- "$@"; }
        _describe() { print -l -- ${(P)2%%:*}; }
        _files() { print FILES; }
        source <(sed "\$d" _romfs)
        words=(romfs check x --board PYBD_SF); CURRENT=5; PREFIX=PYBD_SF; _romfs
        print --
        words=(romfs pack --al); CURRENT=3; PREFIX=--al; _romfs' > got.txt
    grep -qx PYBD_SF2 got.txt || fail "zsh boards: $(cat got.txt)"
    grep -qx -- --align-rule got.txt || fail "zsh options: $(cat got.txt)"
}

installed_with_make_install() {
    dest="$PWD/root"
    make -s -C "$ROMFS_SOURCE_DIR" BUILD="$ROMFS_BUILD" PREFIX=/usr DESTDIR="$dest" install >/dev/null
    [ -s "$dest/usr/share/bash-completion/completions/romfs" ] || fail "bash completion not installed"
    [ -s "$dest/usr/share/zsh/site-functions/_romfs" ] || fail "zsh completion not installed"
}

t bash_completes_commands_options_and_boards
t every_command_and_option_is_in_the_scripts
t zsh_script_completes_when_zsh_is_there
t installed_with_make_install
