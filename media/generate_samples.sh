#!/usr/bin/env bash
# Generate VanKit's sample media: five short films/PSAs and one sound effect.
#
#   media/generate_samples.sh           # make whatever is missing (idempotent)
#   media/generate_samples.sh --force   # remake every file
#
# Needs Debian's ffmpeg and espeak-ng:   sudo apt-get install -y ffmpeg espeak-ng
# Fonts: fonts-dejavu-core for the English title (ffmpeg drawtext); for the Hindi
# title a Devanagari font (fonts-noto-core or fonts-lohit-deva), drawn through
# libass, which shapes Devanagari properly (ffmpeg 5.x drawtext cannot).
# Missing fonts or filters only drop the titles; the files are still made.
#
# Output is bit-exact: running with --force on the same Debian release gives
# byte-identical files, so regenerating does not churn the git tree.
# The catalogue (media/catalog.yaml) is written by hand, not by this script.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$HERE"

FORCE=0
case "${1:-}" in
  --force|-f) FORCE=1 ;;
  "") ;;
  -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
  *) echo "usage: $0 [--force]" >&2; exit 2 ;;
esac

for tool in ffmpeg ffprobe espeak-ng; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "error: $tool not found; install it with: sudo apt-get install -y ffmpeg espeak-ng" >&2
    exit 1
  fi
done

WORK="$(mktemp -d "${TMPDIR:-/tmp}/vankit-samples.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT

# --- capabilities ----------------------------------------------------------
FILTERS="$(ffmpeg -hide_banner -filters 2>/dev/null || true)"
have_filter() { grep -Eq "^ [^ ]+ +$1 " <<<"$FILTERS"; }

LATIN_FONT=""
for f in /usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf \
         "$(fc-match -f '%{file}' 'DejaVu Sans:bold' 2>/dev/null || true)"; do
  if [[ -n "$f" && -f "$f" ]]; then LATIN_FONT="$f"; break; fi
done
DRAWTEXT=0
if have_filter drawtext && [[ -n "$LATIN_FONT" ]]; then DRAWTEXT=1
else echo "note: drawtext or DejaVu Sans Bold unavailable: English titles skipped" >&2; fi

DEVA_FONT=""
if command -v fc-list >/dev/null 2>&1; then
  for fam in "Noto Sans Devanagari" "Lohit Devanagari" "Noto Serif Devanagari"; do
    if fc-list ":family=$fam" family | grep -q .; then DEVA_FONT="$fam"; break; fi
  done
fi
ASS=0
if have_filter ass && [[ -n "$DEVA_FONT" ]]; then ASS=1
else echo "note: libass filter or a Devanagari font unavailable: Hindi titles skipped" >&2; fi

# Common encoder settings: small, deterministic, VLC-friendly.
BITEXACT=(-fflags +bitexact -flags:v +bitexact -flags:a +bitexact -map_metadata -1 -map_chapters -1)
VENC=(-c:v libx264 -preset slow -profile:v main -pix_fmt yuv420p -threads 1
      -crf 30 -maxrate 150k -bufsize 300k -g 30)
AENC=(-c:a aac -b:a 40k -ac 1 -ar 22050)

# --- helpers ----------------------------------------------------------------
# speak LANG SPEED PITCH OUT.wav TEXT
speak() {
  espeak-ng -v "$1" -s "$2" -p "$3" -w "$4" "$5"
}

duration() { ffprobe -v error -show_entries format=duration -of csv=p=0 "$1"; }

# title_filters EN HI SUBTITLE -> prints a -vf chain fragment (may be empty)
title_filters() {
  local en="$1" hi="$2" sub="$3" chain="" n=title size=34
  (( ${#en} > 14 )) && size=28   # keep long titles inside 426 px
  if (( DRAWTEXT )); then
    printf '%s' "$en"  >"$WORK/en-$n.txt"
    printf '%s' "$sub" >"$WORK/sub-$n.txt"
    chain+="drawtext=fontfile=$LATIN_FONT:textfile=$WORK/en-$n.txt:fontsize=$size:fontcolor=white"
    chain+=":box=1:boxcolor=black@0.65:boxborderw=8:x=(w-tw)/2:y=34,"
    chain+="drawtext=fontfile=$LATIN_FONT:textfile=$WORK/sub-$n.txt:fontsize=13:fontcolor=white"
    chain+=":box=1:boxcolor=black@0.65:boxborderw=4:x=(w-tw)/2:y=88,"
  fi
  if (( ASS )); then
    cat >"$WORK/hi-$n.ass" <<EOF
[Script Info]
ScriptType: v4.00+
PlayResX: 426
PlayResY: 240
WrapStyle: 0

[V4+ Styles]
Format: Name, Fontname, Fontsize, PrimaryColour, SecondaryColour, OutlineColour, BackColour, Bold, Italic, Underline, StrikeOut, ScaleX, ScaleY, Spacing, Angle, BorderStyle, Outline, Shadow, Alignment, MarginL, MarginR, MarginV, Encoding
Style: Hi,$DEVA_FONT,34,&H00FFFFFF,&H00FFFFFF,&H00000000,&H60000000,1,0,0,0,100,100,0,0,3,3,0,2,10,10,18,1

[Events]
Format: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text
Dialogue: 0,0:00:00.00,0:01:00.00,Hi,,0,0,0,,$hi
EOF
    chain+="ass=filename=$WORK/hi-$n.ass,"
  fi
  printf '%s' "${chain%,}"
}

# make_video OUT SECONDS VIDEO_SOURCE AUDIO.wav EN HI
# VIDEO_SOURCE is a lavfi source graph (size 426x240).
make_video() {
  local out="$1" secs="$2" src="$3" audio="$4" en="$5" hi="$6"
  local id; id="$(basename "${out%.*}")"
  if [[ -f "$out" && $FORCE -eq 0 ]]; then
    echo "exists: $out"; return 0
  fi
  local vf; vf="$(title_filters "$en" "$hi" "VanKit sample · $id · ${secs} s")"
  [[ -n "$vf" ]] || vf="null"
  local fade_at; fade_at="$(awk "BEGIN{print $secs-0.4}")"
  mkdir -p "$(dirname "$out")"
  ffmpeg -hide_banner -loglevel error -y \
    -f lavfi -i "$src" -i "$audio" \
    -filter_complex "[0:v]${vf},format=yuv420p[v];[1:a]apad,atrim=0:${secs},afade=t=out:st=${fade_at}:d=0.4[a]" \
    -map "[v]" -map "[a]" -t "$secs" \
    "${VENC[@]}" "${AENC[@]}" "${BITEXACT[@]}" -movflags +faststart \
    "$WORK/out.mp4"
  mv -f "$WORK/out.mp4" "$out"
  echo "made:   $out ($(duration "$out") s, $(du -k "$out" | cut -f1) KB)"
}

# voice_track OUT.wav SECONDS DELAY_MS [LANG SPEED PITCH TEXT]...
# Concatenates one or more spoken phrases (0.25 s gap) after DELAY_MS of silence.
voice_track() {
  local out="$1" secs="$2" delay="$3"; shift 3
  local parts=() i=0
  while (( $# )); do
    speak "$1" "$2" "$3" "$WORK/part$i.wav" "$4"
    parts+=("$WORK/part$i.wav"); shift 4; i=$((i+1))
  done
  local inputs=() fc="" j
  for j in "${!parts[@]}"; do
    inputs+=(-i "${parts[$j]}")
    fc+="[$j:a]aresample=22050,aformat=channel_layouts=mono,apad=pad_dur=0.25[p$j];"
  done
  for j in "${!parts[@]}"; do fc+="[p$j]"; done
  fc+="concat=n=${#parts[@]}:v=0:a=1,adelay=${delay},volume=0.9[a]"
  ffmpeg -hide_banner -loglevel error -y "${inputs[@]}" -filter_complex "$fc" -map "[a]" \
    -c:a pcm_s16le "${BITEXACT[@]}" "$out"
  local d; d="$(duration "$out")"
  if awk "BEGIN{exit !($d > $secs - 0.3)}"; then
    echo "warning: voice for $out is ${d}s, longer than the ${secs}s film; it will be cut" >&2
  fi
}

# bell_expr START FREQ -> an aevalsrc term: an inharmonic bell partial set
# (ratios 1, 2.76, 5.40 as in a church bell) that starts at START and decays.
bell_expr() {
  local s="$1" f="$2"
  printf 'gte(t,%s)*(0.55*sin(2*PI*%s*(t-%s))*exp(-3.0*(t-%s))+0.25*sin(2*PI*%s*2.76*(t-%s))*exp(-5.5*(t-%s))+0.12*sin(2*PI*%s*5.40*(t-%s))*exp(-9*(t-%s)))' \
    "$s" "$f" "$s" "$s" "$f" "$s" "$s" "$f" "$s" "$s"
}

# --- 1. sound effect: bell-chime ---------------------------------------------
mkdir -p sound psa film song
if [[ -f sound/bell.ogg && $FORCE -eq 0 ]]; then
  echo "exists: sound/bell.ogg"
else
  ffmpeg -hide_banner -loglevel error -y \
    -f lavfi -i "aevalsrc=exprs='$(bell_expr 0 880)':s=44100:d=1.5" \
    -af "afade=t=in:d=0.005,afade=t=out:st=1.2:d=0.3:curve=exp,volume=0.9" \
    -c:a libvorbis -q:a 3 -ac 1 "${BITEXACT[@]}" "$WORK/bell.ogg"
  mv -f "$WORK/bell.ogg" sound/bell.ogg
  echo "made:   sound/bell.ogg ($(duration sound/bell.ogg) s, $(du -k sound/bell.ogg | cut -f1) KB)"
fi

# --- 2. PSAs and film ---------------------------------------------------------
# ring-the-bell: 6 s, testsrc2, voice then a bell at the end.
if [[ ! -f psa/ring-the-bell.mp4 || $FORCE -eq 1 ]]; then
  voice_track "$WORK/v1.wav" 6 300 hi 150 50 "घरेलू हिंसा होते देखें तो घंटी बजाइए।"
  ffmpeg -hide_banner -loglevel error -y -i "$WORK/v1.wav" \
    -f lavfi -i "aevalsrc=exprs='$(bell_expr 3.8 880)':s=22050:d=6" \
    -filter_complex "[1:a]volume=0.7[b];[0:a][b]amix=inputs=2:normalize=0:duration=longest[a]" \
    -map "[a]" -c:a pcm_s16le "${BITEXACT[@]}" "$WORK/a1.wav"
fi
make_video psa/ring-the-bell.mp4 6 "testsrc2=s=426x240:r=15" "$WORK/a1.wav" \
  "Ring the Bell" "घंटी बजाओ"

# neighbour: 7 s, SMPTE bars.
if [[ ! -f psa/neighbour.mp4 || $FORCE -eq 1 ]]; then
  voice_track "$WORK/a2.wav" 7 300 hi 150 45 "पड़ोस में झगड़ा सुनाई दे तो चुप मत रहिए, घंटी बजाइए।"
fi
make_video psa/neighbour.mp4 7 "smptebars=s=426x240:r=15" "$WORK/a2.wav" \
  "The Neighbour" "पड़ोसी"

# helpline-181: 8 s, the older testsrc pattern.
if [[ ! -f psa/helpline-181.mp4 || $FORCE -eq 1 ]]; then
  voice_track "$WORK/a3.wav" 8 200 hi 168 55 \
    "मदद चाहिए? महिला हेल्पलाइन एक सौ इक्यासी पर फ़ोन कीजिए। ख़तरे में, एक सौ बारह।"
fi
make_video psa/helpline-181.mp4 8 "testsrc=s=426x240:r=15" "$WORK/a3.wav" \
  "Women's Helpline 181" "महिला हेल्पलाइन 181"

# equal-voices: 9 s film, HD bars turned green-blue, Hindi then English voice.
if [[ ! -f film/equal-voices.mp4 || $FORCE -eq 1 ]]; then
  voice_track "$WORK/a4.wav" 9 300 \
    hi 145 50 "घर में बराबरी, हर आवाज़ की इज़्ज़त।" \
    en 150 45 "Equal voices, equal respect, at home."
fi
make_video film/equal-voices.mp4 9 "smptehdbars=s=426x240:r=15,hue=h=140" "$WORK/a4.wav" \
  "Equal Voices" "बराबर आवाज़ें"

# --- 3. song: bell-song, 10 s, a still card with a bell melody and a sung line --
if [[ ! -f song/bell-song.mp4 || $FORCE -eq 1 ]]; then
  voice_track "$WORK/v5.wav" 10 2200 hi 130 75 "घंटी बजाओ, घंटी बजाओ। हिंसा के ख़िलाफ़ आवाज़ उठाओ।"
  melody=""
  # onset:frequency (Hz), a pentatonic tune on G5, A5, C6, D6, E6
  for note in 0:784 0.5:880 1.0:1047 1.5:880 2.5:784 3.5:880 4.5:1047 5.5:1175 \
              6.5:1047 7.0:880 7.5:784 8.5:1047; do
    melody+="$(bell_expr "${note%%:*}" "${note##*:}")+"
  done
  melody="0.45*(${melody%+})"
  ffmpeg -hide_banner -loglevel error -y -i "$WORK/v5.wav" \
    -f lavfi -i "aevalsrc=exprs='${melody}':s=22050:d=10" \
    -filter_complex "[1:a]volume=0.8[m];[0:a][m]amix=inputs=2:normalize=0:duration=longest[a]" \
    -map "[a]" -c:a pcm_s16le "${BITEXACT[@]}" "$WORK/a5.wav"
fi
make_video song/bell-song.mp4 10 "color=c=0x6a1b9a:s=426x240:r=10" "$WORK/a5.wav" \
  "The Bell Song" "घंटी का गीत"

echo "done: $(du -ch sound psa film song | tail -1 | cut -f1) in media/"
