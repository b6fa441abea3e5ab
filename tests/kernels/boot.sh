#!/bin/bash
# Boot one of Debian's own kernels under QEMU (TCG, no KVM) with this machine's root shared
# read-only over 9p, run a command inside, print its output and exit code.
#
#   tests/kernels/boot.sh 5.10|6.1|6.12 [--] COMMAND...     (run as root)
#
# The command runs in a chroot of the host's / (read-only, tmpfs on /tmp and /run) with proc,
# sys, dev, cgroup2 (/sys/fs/cgroup), bpffs and tracefs mounted and `lo` up. Its cwd is the
# directory boot.sh was started from. Packages: qemu-system-x86 busybox-static kmod cpio.
# Kernel packages are cached under $REEL_KERNEL_CACHE (default /var/cache/reel-kernels).
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

need=()
command -v qemu-system-x86_64 >/dev/null || need+=(qemu-system-x86)
[[ -x /bin/busybox ]] || need+=(busybox-static)
command -v depmod >/dev/null || need+=(kmod)
command -v cpio >/dev/null || need+=(cpio)
if ((${#need[@]})); then
  echo "boot.sh: installing ${need[*]}" >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >&2
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
    apt-get "${apt_opts[@]}" update -qq >&2
    touch "$apt_dir/updated"
  fi
  # Newest linux-image-<series>.N-M-amd64-unsigned (backports: <series>.N+debNN-amd64-unsigned).
  pkg=$(apt-cache "${apt_opts[@]}" search --names-only "^linux-image-${series//./\\.}\.[0-9]+(-[0-9]+|\+[a-z0-9]+)-amd64-unsigned$" \
    | awk '{print $1}' | sort -V | tail -1)
  [[ -n $pkg ]] || { echo "boot.sh: no linux-image-$series package in $suite" >&2; exit 1; }
  ver=$(apt-cache "${apt_opts[@]}" policy "$pkg" | awk '/Candidate:/ {print $2}')
  echo "boot.sh: fetching $pkg $ver" >&2
  rm -rf "$kdir.tmp"; mkdir -p "$kdir.tmp"
  (cd "$kdir.tmp" && apt-get "${apt_opts[@]}" download -qq "$pkg" >&2 && mv ./*.deb kernel.deb)
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
  (cd "$ird" && find . | cpio -o -H newc --quiet | gzip -1) > "$initrd.new"
  mv "$initrd.new" "$initrd"
  rm -rf "$ird" "$pkgroot"
fi

# --- per-run cpio with the command --------------------------------------------------------
run=$(mktemp -d)
trap '[[ -n ${REEL_KERNEL_KEEP:-} ]] || rm -rf "$run"' EXIT
{
  echo "cd $(printf %q "$PWD") || exit 97"
  echo "export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root TERM=dumb"
  printf '%q ' "$@"; echo
} > "$run/guest.sh"
(cd "$run" && echo guest.sh | cpio -o -H newc --quiet | gzip -1) > "$run/cmd.gz"
cat "$initrd" "$run/cmd.gz" > "$run/initrd.gz"

start=$(date +%s)
timeout "$timeout_s" qemu-system-x86_64 -machine q35 -cpu max -m "$mem" -smp 1 -nographic -no-reboot \
  -kernel "$vmlinuz" -initrd "$run/initrd.gz" \
  -append "console=ttyS0 panic=-1 quiet loglevel=3" \
  -virtfs local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap \
  -nic none < /dev/null > "$run/console" 2>&1 || true
tr -d '\r' < "$run/console" | sed -n '/=== reel-guest: start/,/=== reel-guest: exit/p' | sed 's/^.*=== reel-guest/=== reel-guest/'
rc=$(tr -d '\r' < "$run/console" | sed -n 's/^.*=== reel-guest: exit \([0-9]*\).*/\1/p' | tail -1)
echo "=== boot.sh: $(cat "$kdir/package"), $(($(date +%s) - start)) s, exit ${rc:-none}" >&2
if [[ -z $rc ]]; then
  echo "boot.sh: the guest did not finish; console tail:" >&2
  tr -d '\r' < "$run/console" | tail -30 >&2
  exit 125
fi
exit "$rc"
