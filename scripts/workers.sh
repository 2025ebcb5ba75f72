# Sourced by scripts/demo.sh and zombienet/verified-task.sh: governance registers the embedded
# models, and CPU workers register, stake and go online. Expects `worker` (the replica-worker
# binary) and an array `pids`, to which each started worker's pid is prepended (so that a
# cleanup stopping `pids` in order stops the workers before anything started earlier).

# register_models NODE MODELS_DIR: sudo (Alice) registers the two embedded models.
register_models() {
	"$worker" model register --node "$1" --sudo-key //Alice "$2/digits-sd"
	"$worker" model register --node "$1" --sudo-key //Alice "$2/fortunes-gpt"
}

# start_workers NODE MODELS_DIR DIR FIRST_PORT METRICS_OFFSET NAME...: one `replica-worker run`
# per name (key //NAME), results on FIRST_PORT, FIRST_PORT + 1, ..., metrics METRICS_OFFSET
# above; store and log (worker-NAME.log) in DIR.
start_workers() {
	local node="$1" models="$2" dir="$3" port="$4" metrics="$5" name
	shift 5
	for name in "$@"; do
		"$worker" run --node "$node" --key "//$name" --device cpu --models "$models" --store "$dir/store-$name" \
			--listen "127.0.0.1:$port" --metrics "127.0.0.1:$((port + metrics))" >"$dir/worker-$name.log" 2>&1 &
		pids=("$!" "${pids[@]}")
		port=$((port + 1))
	done
}

# wait_online DIR SECONDS NAME...: waits until each worker's log says it is online; prints the
# log's end and fails for one that is not after SECONDS.
wait_online() {
	local dir="$1" seconds="$2" name
	shift 2
	for name in "$@"; do
		for _ in $(seq 1 "$seconds"); do
			grep -q "online: models" "$dir/worker-$name.log" && break
			sleep 1
		done
		grep -q "online: models" "$dir/worker-$name.log" || {
			echo "worker $name is not online after $seconds s:" >&2
			tail -20 "$dir/worker-$name.log" >&2
			return 1
		}
	done
}
