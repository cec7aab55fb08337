// The "progress-reporting wrapper people use today": fluent-ffmpeg running one encode and
// printing its progress events, for bench/overhead.sh. Prints its own CPU time (not ffmpeg's)
// and peak RSS as the last line: "node_cpu_s=<s> node_max_rss_kib=<KiB>".
'use strict';
const ffmpeg = require('fluent-ffmpeg');

const [input, seconds, output] = process.argv.slice(2);
let events = 0;
ffmpeg()
  .input(input)
  .inputFormat('lavfi')
  .outputOptions(['-t', seconds, '-c:v', 'libx264', '-preset', 'veryfast', '-y'])
  .output(output)
  .on('progress', (p) => {
    events++;
    if (events % 10 === 0) process.stderr.write(`progress ${p.timemark} ${p.currentFps} fps\n`);
  })
  .on('error', (err) => {
    console.error('error', err.message);
    process.exit(1);
  })
  .on('end', () => {
    const u = process.cpuUsage();
    const r = process.resourceUsage();
    console.log(`node_cpu_s=${((u.user + u.system) / 1e6).toFixed(3)} node_max_rss_kib=${r.maxRSS}`);
  })
  .run();
