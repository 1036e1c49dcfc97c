# scripts/lib/frontend.sh: sourced by scripts/tour and scripts/bench-drivers.
#
# A local simulator (vCenter model over HTTPS, on 127.0.0.1) and an OpenNebula front-end in a
# temporary directory around it: remotes/ (installed with `driver-vmm install`), etc/
# (vmwarerc pinning the simulator's certificate, the password in a file of its own), var/ (the
# cwd of every action, like /var/lib/one), home/ (oneadmin's: the session cache),
# datastores/ (the simulator's datastores 0 and 1). Also the documents oned hands the drivers,
# from the templates in scripts/tour.d/.
#
# Expects: $root (the repository), $bin (target/release). Sets: $work (removed on exit),
# $url, $thumbprint, $hostport, $one, $tmpl, $sim_user, $sim_pass.

sim_user=user
sim_pass=pass
tmpl="$root/scripts/tour.d"

# sim_start [taskset CPU list or ""] [launcher args...]: starts the simulator, stopped on exit.
sim_start() {
    local cpus="$1"
    shift
    local launcher="$root/target/vcsim/vcsim-launcher"
    local pin=()
    if [ -n "$cpus" ]; then pin=(taskset -c "$cpus"); fi
    work="$(mktemp -d)"
    mkfifo "$work/stdin"
    # The launcher serves until its stdin closes: hold the fifo open on fd 9 and close it to
    # stop.
    "${pin[@]}" "$launcher" -model vpx -tls -listen 127.0.0.1:0 \
        -username "$sim_user" -password "$sim_pass" "$@" \
        <"$work/stdin" >"$work/sim.stdout" 2>"$work/sim.stderr" &
    sim_pid=$!
    exec 9>"$work/stdin"
    trap sim_stop EXIT INT TERM
    local line=""
    for _ in $(seq 300); do
        if line="$(head -n 1 "$work/sim.stdout" 2>/dev/null)" && [ -n "$line" ]; then
            break
        fi
        kill -0 "$sim_pid" 2>/dev/null || break
        sleep 0.1
    done
    url="$(printf '%s' "$line" | sed -n 's/.*"url":"\([^"]*\)".*/\1/p')"
    thumbprint="$(printf '%s' "$line" | sed -n 's/.*"thumbprint_sha256":"\([^"]*\)".*/\1/p')"
    if [ -z "$url" ] || [ -z "$thumbprint" ]; then
        echo "the simulator did not start:" >&2
        cat "$work/sim.stderr" >&2
        exit 1
    fi
    case "$url" in
        https://127.0.0.1:*) ;;
        *) echo "refusing a simulator URL not on 127.0.0.1: $url" >&2; exit 1 ;;
    esac
    hostport="${url#https://}"
    hostport="${hostport%%/*}"
}

sim_stop() {
    exec 9>&- || true
    if kill -0 "$sim_pid" 2>/dev/null; then
        for _ in $(seq 50); do
            kill -0 "$sim_pid" 2>/dev/null || break
            sleep 0.1
        done
        kill "$sim_pid" 2>/dev/null || true
    fi
    wait "$sim_pid" 2>/dev/null || true
    rm -rf "$work"
}

# The simulator seen through vim-sdk (examples/src/programs/one_sim.rs), certificate pinned,
# credentials from the environment.
sim() {
    VIM_SDK_USER="$sim_user" VIM_SDK_PASSWORD="$sim_pass" VIM_SDK_THUMBPRINT="$thumbprint" \
        "$bin/one_sim" "$url" "$@"
}

# frontend_setup: installs the remotes tree, writes vmwarerc, makes datastores 0 and 1.
frontend_setup() {
    one="$work/one"
    mkdir -p "$one/remotes" "$one/etc" "$one/var" "$one/home" "$one/datastores"
    "$bin/driver-vmm" install --remotes "$one/remotes" --etc "$one/etc"
    # The installed vmwarerc is a commented example: replace it with the simulator's
    # settings. The password sits in a file of its own (mode 0600), so vmwarerc can be shown.
    (
        umask 077
        printf '%s\n' "$sim_pass" >"$one/etc/vmware-password"
        cat >"$one/etc/vmwarerc" <<RC
# Every action goes through vCenter (the simulator) and finds its host in DC0 by name.
:vcenter: "$hostport"
:datacenter: "DC0"
:username: "$sim_user"
:password_file: "$one/etc/vmware-password"
# The simulator's self-signed certificate, pinned by its SHA-256 thumbprint.
:thumbprints:
  "127.0.0.1": "$thumbprint"
RC
    )
    sim datastores "$one/datastores" 0 1
}

# fill FILE NAME=value...: the template with its @NAME@ placeholders filled.
fill() {
    local file="$1"
    shift
    local args=() kv
    for kv in "$@"; do
        args+=(-e "s|@${kv%%=*}@|${kv#*=}|g")
    done
    sed "${args[@]}" "$file"
}

# deployment VMID SYSDS NETWORK_ID MAC: the deployment file oned writes
# (var/vms/VMID/deployment.0); prints its path.
deployment() {
    local vmid="$1" sysds="$2" net="$3" mac="$4"
    mkdir -p "$one/var/vms/$vmid"
    local dfile="$one/var/vms/$vmid/deployment.0"
    fill "$tmpl/deployment.xml" VMID="$vmid" SYSDS="$sysds" NETWORK_ID="$net" MAC="$mac" \
        VNC_PORT=$((5900 + vmid)) >"$dfile"
    printf '%s\n' "$dfile"
}

# vm_doc VMID SYSDS DEPLOY_ID BRIDGE MAC ATTACH_MAC|- HOST...: the <VM> document of the
# network driver: NIC 0 on network 0 with MAC; with ATTACH_MAC also NIC 1 (network 1, VLAN
# 100, ATTACH=YES); one HISTORY record per host, the last the current or destination host.
vm_doc() {
    local vmid="$1" sysds="$2" deploy_id="$3" bridge="$4" mac="$5" mac2="$6"
    shift 6
    local seq=0 h
    : >"$work/history.part"
    for h in "$@"; do
        fill "$tmpl/history.xml" VMID="$vmid" SEQ="$seq" HOST="$h" HID="$seq" SYSDS="$sysds" \
            >>"$work/history.part"
        seq=$((seq + 1))
    done
    : >"$work/nic.part"
    if [ "$mac2" != - ]; then
        fill "$tmpl/nic-attach.xml" BRIDGE="$bridge" MAC2="$mac2" NETWORK_ID2=1 VLAN_ID2=100 \
            >"$work/nic.part"
    fi
    fill "$tmpl/vm.xml" VMID="$vmid" DEPLOY_ID="$deploy_id" BRIDGE="$bridge" MAC="$mac" \
        NETWORK_ID=0 |
        awk -v nic="$work/nic.part" -v hist="$work/history.part" '
            /^@EXTRA_NIC@$/ { while ((getline l < nic) > 0) print l; next }
            /^@HISTORY@$/ { while ((getline l < hist) > 0) print l; next }
            { print }'
}

# one_env CMD...: CMD in the environment oned gives an action (cwd var/, environment cleared
# but PATH, HOME and VMWARERC, no stdin).
one_env() {
    (cd "$one/var" && exec env -i PATH="$PATH" HOME="$one/home" VMWARERC="$one/etc/vmwarerc" \
        "$@" </dev/null)
}
