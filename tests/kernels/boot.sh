#!/bin/bash
# Boot one of Debian's own kernels under QEMU (TCG, no KVM) with this machine's root shared
# read-only over 9p, run a command inside, print its output and exit code.
#
#   tests/kernels/boot.sh 5.10|6.1|6.12 [--] COMMAND...     (run as root)
#
# The command runs in a chroot of the host's / (read-only, tmpfs on /tmp and /run) with proc,
# sys, dev, cgroup2 (/sys/fs/cgroup), bpffs and tracefs mounted and `lo` up. Its cwd is the
# directory boot.sh was started from, shared once more at its own path (read-only), so that it is
# there even under /tmp (a CI checkout). The guest cannot write to the host: qemu exports / with
# readonly=on and the guest mounts it ro; it has no network (-nic none).
#
# Exit code: the command's; 124 when qemu was killed after $REEL_KERNEL_TIMEOUT s (default 600);
# 125 when the guest stopped without finishing the command (panic, a failed 9p mount); 1 when the
# kernel package could not be found or downloaded; 2 for an unknown series.
# Packages (scripts/setup installs them): qemu-system-x86 busybox-static kmod cpio xz-utils zstd.
# Kernel packages are cached under $REEL_KERNEL_CACHE (default /var/cache/reel-kernels).
# REEL_KERNEL_CONSOLE=FILE keeps the guest's whole serial console there.
set -euo pipefail

series=${1:?usage: boot.sh 5.10|6.1|6.12 [--] COMMAND...}
shift
[[ ${1:-} == -- ]] && shift
(($#)) || set -- uname -r

case $series in
  5.10) suite=bullseye ;;
  6.1) suite=bookworm ;;
  6.12) suite=bookworm-backports ;;
  *) echo "boot.sh: unknown kernel series $series (5.10, 6.1, 6.12)" >&2; exit 2 ;;
esac

cache=${REEL_KERNEL_CACHE:-/var/cache/reel-kernels}
mem=${REEL_KERNEL_MEM:-1024}
timeout_s=${REEL_KERNEL_TIMEOUT:-600}

missing=()
command -v qemu-system-x86_64 >/dev/null || missing+=(qemu-system-x86)
[[ -x /bin/busybox ]] || missing+=(busybox-static)
command -v depmod >/dev/null || missing+=(kmod)
command -v cpio >/dev/null || missing+=(cpio)
command -v xz >/dev/null || missing+=(xz-utils)
command -v zstd >/dev/null || missing+=(zstd)
if ((${#missing[@]})); then
  echo "boot.sh: missing packages: ${missing[*]} (scripts/setup installs them)" >&2
  exit 1
fi

# --- fetch the kernel package (private apt config, cached) ---------------------------------
apt_dir=$cache/apt
mkdir -p "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial"
sources=$apt_dir/sources.list
uri=$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
uri=${uri:-http://deb.debian.org/debian}
cat > "$sources.new" <<SRC
deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $uri bullseye main
deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $uri bookworm main
deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $uri bookworm-backports main
SRC
mv "$sources.new" "$sources"
apt_opts=(-o "Dir::Etc::SourceList=$sources" -o "Dir::Etc::SourceParts=/nonexistent"
  -o "Dir::State::Lists=$apt_dir/lists" -o "Dir::Cache=$apt_dir/cache"
  -o "Dir::State::status=/dev/null" -o "APT::Get::List-Cleanup=0" -o "APT::Sandbox::User=root")

kdir=$cache/$series
if [[ ! -f $kdir/ready ]]; then
  if [[ ! -f $apt_dir/updated ]] || [[ -n $(find "$apt_dir/updated" -mtime +1) ]]; then
    if ! apt-get "${apt_opts[@]}" update -qq --error-on=any >&2; then
      echo "boot.sh: apt-get update of bullseye, bookworm, bookworm-backports from $uri failed" >&2
      exit 1
    fi
    touch "$apt_dir/updated"
  fi
  # Newest linux-image-<series>.N-M-amd64-unsigned (backports: <series>.N+debNN-amd64-unsigned).
  pkg=$(apt-cache "${apt_opts[@]}" search --names-only "^linux-image-${series//./\\.}\.[0-9]+(-[0-9]+|\+[a-z0-9]+)-amd64-unsigned$" \
    | awk '{print $1}' | sort -V | tail -1)
  [[ -n $pkg ]] || { echo "boot.sh: no linux-image-$series package in $suite" >&2; exit 1; }
  ver=$(apt-cache "${apt_opts[@]}" policy "$pkg" | awk '/Candidate:/ {print $2}')
  echo "boot.sh: fetching $pkg $ver" >&2
  rm -rf "$kdir.tmp"; mkdir -p "$kdir.tmp"
  (cd "$kdir.tmp" && apt-get "${apt_opts[@]}" download -qq "$pkg" >&2 && mv ./*.deb kernel.deb) \
    || { echo "boot.sh: downloading $pkg $ver from $uri failed" >&2; exit 1; }
  dpkg --fsys-tarfile "$kdir.tmp/kernel.deb" | tar -x -C "$kdir.tmp" --wildcards './boot/vmlinuz-*'
  mv "$kdir.tmp"/boot/vmlinuz-* "$kdir.tmp/vmlinuz"
  echo "$pkg $ver" > "$kdir.tmp/package"
  rm -rf "$kdir"; mv "$kdir.tmp" "$kdir"
  touch "$kdir/ready"
fi
vmlinuz=$kdir/vmlinuz

# --- initramfs: busybox + the virtio/9p modules in load order -------------------------------
# Only the .deb, vmlinuz and this initrd stay in the cache; modules are unpacked to build it.
initrd=$kdir/initrd.gz
if [[ ! -f $initrd || $0 -nt $initrd ]]; then
  pkgroot=$(mktemp -d)
  dpkg -x "$kdir/kernel.deb" "$pkgroot"
  kver=$(ls "$pkgroot/lib/modules" | head -1)
  depmod -b "$pkgroot" "$kver"
  ird=$(mktemp -d)
  mkdir -p "$ird"/{bin,proc,sys,dev,mnt,modules}
  cp /bin/busybox "$ird/bin/busybox"
  for a in sh mount umount mkdir insmod poweroff cat chroot ip sleep echo ls; do
    ln -s busybox "$ird/bin/$a"
  done
  # modules.dep lists dependencies after the module; resolve and order them.
  moddir=$pkgroot/lib/modules/$kver
  declare -A seen=()
  order=()
  add_mod() {  # add_mod relative/path.ko
    local m=$1 deps d
    [[ -n ${seen[$m]:-} ]] && return
    seen[$m]=1
    deps=$(awk -F': *' -v m="$m" '$1 == m {print $2}' "$moddir/modules.dep")
    for d in $deps; do add_mod "$d"; done
    order+=("$m")
  }
  for name in virtio_pci 9pnet_virtio 9p; do
    re="/${name}\\.ko(\\.xz|\\.zst|\\.gz)?\$"
    grep -Eq "$re" "$moddir/modules.builtin" && continue  # built in (6.12: virtio_pci)
    path=$(RE="$re" awk -F: '$1 ~ ENVIRON["RE"] {print $1; exit}' "$moddir/modules.dep")
    [[ -n $path ]] || { echo "boot.sh: module $name not found in $kver" >&2; exit 1; }
    add_mod "$path"
  done
  : > "$ird/modules/order"
  for m in "${order[@]}"; do
    b=$(basename "$m")
    case $m in
      *.ko.xz) xz -dc "$moddir/$m" > "$ird/modules/${b%.xz}"; b=${b%.xz} ;;
      *.ko.gz) gzip -dc "$moddir/$m" > "$ird/modules/${b%.gz}"; b=${b%.gz} ;;
      *.ko.zst) zstd -qdc "$moddir/$m" > "$ird/modules/${b%.zst}"; b=${b%.zst} ;;
      *) cp "$moddir/$m" "$ird/modules/$b" ;;
    esac
    echo "$b" >> "$ird/modules/order"
  done
  # The command and cwd arrive per run in a second, tiny cpio appended to this one (/guest.sh).
  cat > "$ird/init" <<'INIT'
#!/bin/sh
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
for m in $(cat /modules/order); do insmod /modules/$m >/dev/null 2>&1 || echo "init: insmod $m failed"; done
mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=262144 hostroot /mnt || { echo "init: 9p mount failed"; poweroff -f; }
mount --bind /proc /mnt/proc
mount --bind /sys /mnt/sys
mount --bind /dev /mnt/dev
mount -t devpts devpts /mnt/dev/pts 2>/dev/null
mount -t tmpfs tmpfs /mnt/tmp
mount -t tmpfs tmpfs /mnt/run
mount -t tmpfs tmpfs /mnt/var/tmp 2>/dev/null
mount -t cgroup2 none /mnt/sys/fs/cgroup 2>/dev/null
mount -t bpf bpf /mnt/sys/fs/bpf
mount -t tracefs nodev /mnt/sys/kernel/tracing 2>/dev/null
mount -t debugfs nodev /mnt/sys/kernel/debug 2>/dev/null
ip link set lo up
mkdir -p /mnt/run/reel-guest
cp /guest.sh /mnt/run/reel-guest/guest.sh
echo "=== reel-guest: start $(cat /proc/sys/kernel/osrelease)"
chroot /mnt /bin/bash /run/reel-guest/guest.sh  # bash: the command is quoted with printf %q
echo "=== reel-guest: exit $?"
poweroff -f
INIT
  chmod +x "$ird/init"
  (cd "$ird" && find . | cpio -o -H newc --quiet | gzip -1) > "$initrd.$$"
  mv "$initrd.$$" "$initrd"  # atomic: another boot.sh may be reading it
  rm -rf "$ird" "$pkgroot"
fi

# --- per-run cpio with the command --------------------------------------------------------
run=$(mktemp -d)
trap '[[ -n ${REEL_KERNEL_KEEP:-} ]] || rm -rf "$run"' EXIT
{
  echo "mkdir -p $(printf %q "$PWD") && mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=262144 cwd $(printf %q "$PWD") || exit 96"
  echo "cd $(printf %q "$PWD") || exit 97"
  echo "export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root TERM=dumb"
  printf '%q ' "$@"; echo
} > "$run/guest.sh"
(cd "$run" && echo guest.sh | cpio -o -H newc --quiet | gzip -1) > "$run/cmd.gz"
cat "$initrd" "$run/cmd.gz" > "$run/initrd.gz"

start=$(date +%s)
# SIGTERM ends qemu at once; -k: SIGKILL 10 s later if it has not.
qemu_rc=0
timeout -k 10 "$timeout_s" qemu-system-x86_64 -machine q35 -cpu max -m "$mem" -smp 1 -nographic -no-reboot \
  -kernel "$vmlinuz" -initrd "$run/initrd.gz" \
  -append "console=ttyS0 panic=-1 quiet loglevel=3" \
  -virtfs local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap \
  -virtfs "local,path=$PWD,mount_tag=cwd,security_model=none,readonly=on,multidevs=remap" \
  -nic none < /dev/null > "$run/console" 2>&1 || qemu_rc=$?
# Without the carriage returns and the terminal resets SeaBIOS sends.
tr -d '\r' < "$run/console" | sed 's/\x1bc//g; s/\x1b\[[0-9;?]*[a-zA-Z]//g' > "$run/console.txt"
[[ -z ${REEL_KERNEL_CONSOLE:-} ]] || cp "$run/console.txt" "$REEL_KERNEL_CONSOLE"
sed -n '/=== reel-guest: start/,/=== reel-guest: exit/p' "$run/console.txt" \
  | sed 's/^.*=== reel-guest/=== reel-guest/'
rc=$(sed -n 's/^.*=== reel-guest: exit \([0-9]*\).*/\1/p' "$run/console.txt" | tail -1)
echo "=== boot.sh: $(cat "$kdir/package"), $(($(date +%s) - start)) s, exit ${rc:-none}" >&2
if [[ -n $rc ]]; then
  exit "$rc"
fi
timed_out=
((qemu_rc == 124 || qemu_rc == 137)) && timed_out=1
if [[ -n $timed_out ]]; then
  echo "boot.sh: timed out: qemu killed after ${timeout_s} s (REEL_KERNEL_TIMEOUT)" >&2
else
  echo "boot.sh: the guest stopped without finishing its command (qemu exit $qemu_rc)" >&2
fi
if grep -q '=== reel-guest: start' "$run/console.txt"; then
  echo "boot.sh: the command's output so far is above" >&2
else  # it never got to the command: the console says why (kernel panic, 9p mount...)
  echo "boot.sh: the guest never started the command; console tail:" >&2
  tail -30 "$run/console.txt" >&2
fi
[[ -n $timed_out ]] && exit 124
exit 125
