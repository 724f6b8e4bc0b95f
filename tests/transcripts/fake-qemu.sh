#!/bin/sh
# Fake qemu-system-x86_64 for dead-threads' tests. It takes the options that
# dead-threads passes, checks those it depends on the way QEMU would, and
# replays transcript.txt from the image's directory onto the serial port given
# with -serial (stdio or file:PATH). See tests/transcripts/README.md.

serial=
image=

# Value of file= in a -drive option string (commas in values are doubled).
drive_file() {
	printf '%s\n' "$1" | awk '{
		s = $0; f = ""; n = length(s); i = 1
		while (i <= n) {
			c = substr(s, i, 1)
			if (c == ",") {
				if (substr(s, i + 1, 1) == ",") { f = f ","; i += 2; continue }
				if (f ~ /^file=/) { print substr(f, 6); exit }
				f = ""; i++; continue
			}
			f = f c; i++
		}
		if (f ~ /^file=/) print substr(f, 6)
	}'
}

parse() {
	while [ $# -gt 0 ]; do
		case "$1" in
		-serial) serial=$2; shift 2 ;;
		-drive) image=$(drive_file "$2"); shift 2 ;;
		-name|-machine|-accel|-cpu|-m|-smp|-display|-monitor|-parallel|-nic|-device)
			[ $# -ge 2 ] || { echo "qemu-system-x86_64: $1: requires an argument" >&2; exit 1; }
			shift 2 ;;
		-no-reboot) shift ;;
		*) echo "qemu-system-x86_64: $1: invalid option" >&2; exit 1 ;;
		esac
	done
}
parse "$@"

if [ -z "$image" ]; then
	echo "qemu-system-x86_64: no -drive file= given" >&2
	exit 1
fi
if [ ! -f "$image" ]; then
	echo "qemu-system-x86_64: Could not open '$image': No such file or directory" >&2
	exit 1
fi
state=$(dirname "$image")
echo $$ > "$state/fake.pid"
for a in "$@"; do printf '%s\n' "$a"; done > "$state/argv"

case "$serial" in
stdio) exec 3>&1 ;;
file:*) exec 3>"${serial#file:}" ;;
*)
	echo "qemu-system-x86_64: -serial '$serial': this fake supports stdio and file:PATH" >&2
	exit 1 ;;
esac

# QEMU's stdin is the serial port's input; the replay loop below reads the
# transcript on fd 0, so keep the real stdin on fd 4.
exec 4<&0

# Reads one line typed at KDL (ended by \r, as a serial terminal sends it)
# into $cmd; fails at end of input.
read_cr() {
	cmd=
	while :; do
		h=$(dd bs=1 count=1 2>/dev/null <&4 | od -An -tx1 | tr -d ' \n')
		[ -n "$h" ] || return 1
		[ "$h" != 0d ] || return 0
		cmd="$cmd$(printf "\\$(printf '%03o' "0x$h")")"
	done
}

hang() {
	sleep 3600 &
	echo $! > "$state/child.pid"
	wait $!
	exit 0
}

while IFS= read -r line || [ -n "$line" ]; do
	case "$line" in
	'@fake sleep '*) sleep "${line#@fake sleep }" ;;
	'@fake raw '*) printf "${line#@fake raw }" >&3 ;;
	'@fake stderr '*) printf '%s\n' "${line#@fake stderr }" >&2 ;;
	'@fake exit '*) exit "${line#@fake exit }" ;;
	'@fake hang') hang ;;
	'@fake kdl')
		# A kernel debugger: prompt, read a command, echo it, answer.
		while :; do
			printf 'kdebug> ' >&3
			read_cr || hang
			printf '%s\r\n' "$cmd" >&3
			case "$cmd" in
			bt) printf 'stack trace for thread 4242 "dead_threads_sc"\r\n 0 ffffffff90004e10 (+  32) ffffffff80012345   <kernel_x86_64> invented_frame + 0x15\r\n' >&3 ;;
			*) printf 'invented output of %s\r\n' "$cmd" >&3 ;;
			esac
		done ;;
	'@fake exec-hang') exec sleep 3600 ;;
	'@fake ignore-term') trap '' TERM ;;
	'@fake #'*) ;;
	# Haiku's serial output turns every \n into \r\n.
	*) printf '%s\r\n' "$line" >&3 ;;
	esac
done < "$state/transcript.txt"
exit 0
