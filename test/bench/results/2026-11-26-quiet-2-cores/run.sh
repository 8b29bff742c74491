#!/bin/bash
# Agent overhead and drop latency on a quiet machine, pinned to two cores.
# The payload in .devpayload/ (node, the npm packages' ffmpeg and ffprobe, production
# node_modules and dist, each xz-compressed; 61 MB) was built on the dev VM and carried
# to the device with `run`; its outputs are the other files in this folder.
set -u
W=/tmp/w; rm -rf $W; mkdir -p $W/bin $W/app
{
date -u; nproc; grep -m1 'model name' /proc/cpuinfo; uptime
python3 - <<'PY'
import lzma, tarfile, shutil, os
W='/tmp/w'
with lzma.open('.devpayload/node.xz') as f, open(W+'/bin/node','wb') as o: shutil.copyfileobj(f,o)
os.chmod(W+'/bin/node',0o755)
for t in ['nm.tar.xz','ff.tar.xz','dist.tar.xz']:
    with tarfile.open('.devpayload/'+t,'r:xz') as tf: tf.extractall(W+'/app')
PY
cp package.json $W/app/
date -u
} > $OUT/log.txt 2>&1
cd $W/app
export PATH=$W/bin:$PATH
node -v >> $OUT/log.txt 2>&1
SPOOL_BENCH_PAIRS=${P720:-18} SPOOL_BENCH_SIZES=1280x720 timeout 250 taskset -c ${CPUS:-2,3} node dist/test/bench/agent-overhead.js > $OUT/o720.txt 2> $OUT/o720.err; echo "720 exit $? $(date -u)" >> $OUT/log.txt
SPOOL_BENCH_PAIRS=${P1080:-10} SPOOL_BENCH_SIZES=1920x1080 timeout 230 taskset -c ${CPUS:-2,3} node dist/test/bench/agent-overhead.js > $OUT/o1080.txt 2> $OUT/o1080.err; echo "1080 exit $? $(date -u)" >> $OUT/log.txt
SPOOL_BENCH_HISTORY=0 timeout 60 taskset -c ${CPUS:-2,3} node dist/test/bench/drop-latency.js > $OUT/drop.txt 2> $OUT/drop.err; echo "drop exit $? $(date -u)" >> $OUT/log.txt
uptime >> $OUT/log.txt
