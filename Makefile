# romfs: build, test, bench, fuzz, demo, install.
#
# Every lib/LAYER/*.c goes into libromfs.a, every cli/*.c into the romfs binary, every
# cli/cmd_NAME.c defines the subcommand NAME, every templates/ file is embedded.
# Header dependencies are tracked by the compiler (-MMD -MP); lib/ never sees cli/'s
# generated files. ARCHITECTURE.md says which folder of lib/ may include which.
# BUILD selects the output directory, so several builds can share one tree.

BUILD    ?= build
PREFIX   ?= /usr/local
DESTDIR  ?=
VERSION  := 0.1.0
CC       ?= cc
OPT      ?= -O2 -g
SANITIZE ?=

PKG_MODULES := libcjson libusb-1.0 libserialport libelf zlib
PKG_CFLAGS  := $(shell pkg-config --cflags $(PKG_MODULES) 2>/dev/null)
PKG_LIBS    := $(shell pkg-config --libs $(PKG_MODULES) 2>/dev/null)
# Debian's mbedTLS 2.x ships no pkg-config file.
MBED_LIBS   := $(shell pkg-config --libs mbedcrypto 2>/dev/null || echo -lmbedcrypto)

ALL_CFLAGS  := -std=c11 -D_DEFAULT_SOURCE -D_FILE_OFFSET_BITS=64 -Wall -Wextra -Werror \
               $(OPT) $(SANITIZE) $(PKG_CFLAGS) -Ilib -I$(BUILD)/gen \
               -DROMFS_VERSION='"$(VERSION)"' $(CFLAGS)
ALL_LDFLAGS := $(SANITIZE) $(LDFLAGS)
ALL_LDLIBS  := $(PKG_LIBS) $(MBED_LIBS) -lpthread $(LDLIBS)

LIB_SRC   := $(sort $(wildcard lib/*/*.c))
CLI_SRC   := $(sort $(wildcard cli/*.c))
CMD_NAMES := $(patsubst cli/cmd_%.c,%,$(sort $(wildcard cli/cmd_*.c)))
# Tables the build turns into code (*.def) are not embedded.
TEMPLATES := $(filter-out %.def,$(shell find templates -type f 2>/dev/null | LC_ALL=C sort)) \
             $(wildcard boards.json)
UNIT_SRC  := $(sort $(wildcard tests/unit/test_*.c))
# Public headers: lib/romfs.h and each folder's headers but the *_internal.h ones.
PUBLIC_HEADERS := lib/romfs.h $(filter-out %_internal.h,$(sort $(wildcard lib/*/*.h)))

LIB_OBJ  := $(patsubst %.c,$(BUILD)/%.o,$(LIB_SRC)) $(BUILD)/gen/templates.o
CLI_OBJ  := $(patsubst %.c,$(BUILD)/%.o,$(CLI_SRC))
UNIT_BIN := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRC))

.PHONY: all deps deps-check test test-build demo bench fuzz install uninstall clean
.DELETE_ON_ERROR:

all: $(BUILD)/romfs $(BUILD)/libromfs.a $(BUILD)/romfs.pc $(BUILD)/completion/romfs $(BUILD)/completion/_romfs

DEPFLAGS = -MMD -MP -MF $(@:.o=.d)

# lib/'s only generated header: the REPL write loop's protocol (see below).
LIB_GEN := $(BUILD)/gen/flash/serve_protocol.h

$(BUILD)/lib/%.o: lib/%.c | $(LIB_GEN)
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	@$(CC) $(ALL_CFLAGS) $(DEPFLAGS) -c $< -o $@

# Only the command table is generated for cli/; lib/ never waits for it.
$(BUILD)/cli/%.o: cli/%.c | $(BUILD)/gen/commands.h
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	@$(CC) $(ALL_CFLAGS) $(DEPFLAGS) -c $< -o $@

$(BUILD)/gen/templates.o: $(BUILD)/gen/templates.c
	@$(CC) $(ALL_CFLAGS) -c $< -o $@

# templates/ files become a table {name, bytes, length} behind romfs_template().
$(BUILD)/gen/templates.c: $(TEMPLATES) Makefile
	@mkdir -p $(dir $@)
	@{ echo '#include <stddef.h>'; echo '#include "base/template.h"'; i=0; \
	   for f in $(TEMPLATES); do \
	     echo "static const unsigned char t$$i[] = {"; \
	     od -An -v -tx1 "$$f" | sed -e 's/ \([0-9a-f][0-9a-f]\)/0x\1,/g'; \
	     echo '0};'; i=$$((i+1)); done; \
	   echo 'const struct romfs_template_file romfs_templates[] = {'; i=0; \
	   for f in $(TEMPLATES); do \
	     echo "{\"$${f#templates/}\", t$$i, sizeof t$$i - 1},"; i=$$((i+1)); done; \
	   echo '{NULL, NULL, 0}};'; } > $@.tmp && mv $@.tmp $@

# The REPL write loop's protocol, defined once in templates/device/serve_protocol.def:
# each row "kind NAME value meaning" becomes a C constant SERVE_NAME (SERVE_OP_NAME for
# an op) and, unless its kind is host, a line of SERVE_PROTOCOL_PY, the Python the host
# sends ahead of serve.py: _RF_NAME = the marker byte (bytes), the op's or number's value.
$(BUILD)/gen/flash/serve_protocol.h: templates/device/serve_protocol.def Makefile
	@mkdir -p $(dir $@)
	@awk 'function num(v,  n, i) { \
	        if (v ~ /^0x/) { n = 0; for (i = 3; i <= length(v); i++) \
	          n = n * 16 + index("0123456789abcdef", tolower(substr(v, i, 1))) - 1; return n } \
	        if (length(v) == 1 && v !~ /[0-9]/) return index(ascii, v) + 31; \
	        if (v !~ /^[0-9]+$$/) { print FILENAME ":" FNR ": bad value " v > "/dev/stderr"; exit 1 } \
	        return v + 0 } \
	      BEGIN { for (i = 32; i < 127; i++) ascii = ascii sprintf("%c", i); \
	        print "/* flash/serve_protocol.h: made by the build from templates/device/serve_protocol.def. */"; \
	        print "#ifndef ROMFS_SERVE_PROTOCOL_H"; print "#define ROMFS_SERVE_PROTOCOL_H"; print "" } \
	      /^[ \t]*(#|$$)/ { next } \
	      { kind = $$1; name = (kind == "op" ? "OP_" : "") $$2; v = num($$3); m = $$4; \
	        for (i = 5; i <= NF; i++) m = m " " $$i; \
	        c = kind == "op" ? "\047" $$3 "\047" : $$3; \
	        printf "#define SERVE_%s %s /* %s */\n", name, c, m; \
	        if (kind == "marker") py = py sprintf("    \"_RF_%s=b\047\\\\x%02x\047\\n\" \\\n", name, v); \
	        else if (kind == "op" || kind == "number") py = py sprintf("    \"_RF_%s=%d\\n\" \\\n", name, v); \
	        else if (kind != "host") { print FILENAME ":" FNR ": unknown kind " kind > "/dev/stderr"; exit 1 } } \
	      END { print ""; print "/* Python for the device: the names serve.py uses. */"; \
	        printf "#define SERVE_PROTOCOL_PY \\\n%s    \"\"\n\n#endif\n", py }' \
	    templates/device/serve_protocol.def > $@.tmp && mv $@.tmp $@

# One subcommand per cli/cmd_NAME.c, each defining cli_command_NAME.
$(BUILD)/gen/commands.h: Makefile $(wildcard cli/cmd_*.c)
	@mkdir -p $(dir $@)
	@{ for c in $(CMD_NAMES); do echo "extern const struct cli_command cli_command_$$c;"; done; \
	   printf '#define CLI_COMMAND_LIST'; \
	   for c in $(CMD_NAMES); do printf ' &cli_command_%s,' $$c; done; echo; } > $@.tmp && mv $@.tmp $@

$(BUILD)/libromfs.a: $(LIB_OBJ)
	@rm -f $@
	@$(AR) rcs $@ $^

$(BUILD)/romfs: $(CLI_OBJ) $(BUILD)/libromfs.a
	@echo "  LINK    $@"
	@$(CC) $(ALL_LDFLAGS) $(CLI_OBJ) $(BUILD)/libromfs.a $(ALL_LDLIBS) -o $@

$(BUILD)/tests/%: tests/unit/%.c $(BUILD)/libromfs.a
	@mkdir -p $(dir $@)
	@echo "  TEST    $@"
	@$(CC) $(ALL_CFLAGS) -MMD -MP -MF $@.d -Itests/unit $< $(BUILD)/libromfs.a $(ALL_LDFLAGS) $(ALL_LDLIBS) -o $@

# Shell completion, generated by the tool from its own command and option tables.
$(BUILD)/completion/romfs: $(BUILD)/romfs
	@mkdir -p $(dir $@)
	@$< completion bash > $@.tmp && mv $@.tmp $@
$(BUILD)/completion/_romfs: $(BUILD)/romfs
	@mkdir -p $(dir $@)
	@$< completion zsh > $@.tmp && mv $@.tmp $@

$(BUILD)/romfs.pc: Makefile
	@mkdir -p $(dir $@)
	@printf 'prefix=%s\nlibdir=$${prefix}/lib\nincludedir=$${prefix}/include\n\nName: libromfs\nDescription: MicroPython ROMFS image library\nVersion: %s\nRequires: %s\nLibs: -L$${libdir} -lromfs %s -lpthread\nCflags: -I$${includedir}/romfs\n' \
	  '$(PREFIX)' '$(VERSION)' '$(PKG_MODULES)' '$(MBED_LIBS)' > $@

test-build: $(BUILD)/romfs $(UNIT_BIN)

# Debian packages the project builds, tests and demos with.
DEB_PACKAGES := build-essential pkg-config python3 clang libclang-rt-14-dev \
  libmbedtls-dev libcjson-dev libusb-1.0-0-dev libserialport-dev libelf-dev zlib1g-dev \
  binutils-arm-none-eabi gcc-arm-none-eabi dfu-util qemu-system-arm openocd python3-pyocd \
  bc time openssl python3-yaml zsh ser2net

deps:
	@tests/tools/deps.sh install $(DEB_PACKAGES)

deps-check:
	@tests/tools/deps.sh ensure $(DEB_PACKAGES)

# The whole suite runs against a build with AddressSanitizer + UBSan, plus the fuzzers.
ASAN := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
test: deps-check
	@$(MAKE) --no-print-directory BUILD=$(BUILD)/asan OPT="-O1 -g" SANITIZE="$(ASAN)" test-build
	@$(MAKE) --no-print-directory all
	@ROMFS_SOURCE_DIR=$(CURDIR) tests/run.sh $(BUILD)/asan $(BUILD)

demo: deps-check all
	@tests/tools/demo.sh $(BUILD)

# BENCH_QUICK=1: small sizes, the same code paths, a few seconds (run by .ci/run).
BENCH_QUICK ?= 0
bench: deps-check all
	@BENCH_QUICK=$(BENCH_QUICK) bench/run.sh $(BUILD)

FUZZ_SRC := $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZ_BIN := $(patsubst tests/fuzz/%.c,$(BUILD)/fuzz/%,$(FUZZ_SRC))
FUZZ_SECONDS ?= 60
FUZZ_CFLAGS := -std=c11 -D_DEFAULT_SOURCE -D_FILE_OFFSET_BITS=64 -g -O1 \
  -fsanitize=fuzzer-no-link,address,undefined $(PKG_CFLAGS) -Ilib -I$(BUILD)/gen
FUZZ_LIB_OBJ := $(patsubst %.c,$(BUILD)/fuzz/obj/%.o,$(LIB_SRC)) $(BUILD)/fuzz/obj/templates.o
# The library is compiled once with fuzzer instrumentation; each target links it.
$(BUILD)/fuzz/obj/%.o: %.c | $(LIB_GEN)
	@mkdir -p $(dir $@)
	@echo "  FUZZCC  $<"
	@clang $(FUZZ_CFLAGS) $(DEPFLAGS) -c $< -o $@
$(BUILD)/fuzz/obj/templates.o: $(BUILD)/gen/templates.c
	@clang $(FUZZ_CFLAGS) -c $< -o $@
$(BUILD)/fuzz/libromfs-fuzz.a: $(FUZZ_LIB_OBJ)
	@rm -f $@
	@$(AR) rcs $@ $^
$(BUILD)/fuzz/%: tests/fuzz/%.c $(BUILD)/fuzz/libromfs-fuzz.a
	@echo "  FUZZ    $@"
	@clang $(FUZZ_CFLAGS) -fsanitize=fuzzer $< $(BUILD)/fuzz/libromfs-fuzz.a $(PKG_LIBS) $(MBED_LIBS) -lpthread -o $@
fuzz-build: $(FUZZ_BIN)
# FUZZ_SECONDS is the whole budget, shared by all targets (two run at a time).
fuzz: deps-check fuzz-build
	@tests/tools/fuzz.sh $(BUILD)/fuzz $(FUZZ_SECONDS)

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib/pkgconfig \
	  $(DESTDIR)$(PREFIX)/include/romfs $(DESTDIR)$(PREFIX)/share/man/man1
	install -m 755 $(BUILD)/romfs $(DESTDIR)$(PREFIX)/bin/romfs
	install -m 644 $(BUILD)/libromfs.a $(DESTDIR)$(PREFIX)/lib/libromfs.a
	for h in $(PUBLIC_HEADERS); do d=$(DESTDIR)$(PREFIX)/include/romfs/$$(dirname $${h#lib/}); \
	  install -d $$d && install -m 644 $$h $$d/ || exit 1; done
	sed 's|^prefix=.*|prefix=$(PREFIX)|' $(BUILD)/romfs.pc > $(DESTDIR)$(PREFIX)/lib/pkgconfig/romfs.pc
	install -m 644 doc/romfs.1 $(DESTDIR)$(PREFIX)/share/man/man1/romfs.1
	install -d $(DESTDIR)$(PREFIX)/share/bash-completion/completions $(DESTDIR)$(PREFIX)/share/zsh/site-functions
	install -m 644 $(BUILD)/completion/romfs $(DESTDIR)$(PREFIX)/share/bash-completion/completions/romfs
	install -m 644 $(BUILD)/completion/_romfs $(DESTDIR)$(PREFIX)/share/zsh/site-functions/_romfs

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/romfs $(DESTDIR)$(PREFIX)/lib/libromfs.a \
	  $(DESTDIR)$(PREFIX)/lib/pkgconfig/romfs.pc $(DESTDIR)$(PREFIX)/share/man/man1/romfs.1 \
	  $(DESTDIR)$(PREFIX)/share/bash-completion/completions/romfs $(DESTDIR)$(PREFIX)/share/zsh/site-functions/_romfs
	rm -rf $(DESTDIR)$(PREFIX)/include/romfs

clean:
	rm -rf $(BUILD)

-include $(wildcard $(BUILD)/lib/*/*.d $(BUILD)/cli/*.d $(BUILD)/tests/*.d $(BUILD)/fuzz/obj/lib/*/*.d)
