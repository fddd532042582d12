import { RbspReader } from './rbsp-reader.js';

/** The fields of an H.264 sequence parameter set the engine needs (ITU-T H.264 7.3.2.1.1). */
export interface H264Sps {
  profileIdc: number;
  constraintFlags: number;
  levelIdc: number;
  chromaFormatIdc: number;
  frameMbsOnly: boolean;
  width: number;
  height: number;
  /** log2_max_frame_num (for slice header parsing). */
  log2MaxFrameNum: number;
  pocType: number;
}

const HIGH_PROFILES = new Set([100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135]);

function skipScalingList(r: RbspReader, size: number): void {
  let last = 8;
  let next = 8;
  for (let j = 0; j < size; j++) {
    if (next !== 0) next = (last + r.se() + 256) % 256;
    last = next === 0 ? last : next;
  }
}

/** Parses an SPS NAL unit (with its 1-byte NAL header, emulation prevention intact). */
export function parseH264Sps(nal: Uint8Array): H264Sps {
  const r = new RbspReader(nal, 1);
  const profileIdc = r.bits(8);
  const constraintFlags = r.bits(8);
  const levelIdc = r.bits(8);
  r.ue(); // seq_parameter_set_id
  let chromaFormatIdc = 1;
  let separateColourPlane = 0;
  if (HIGH_PROFILES.has(profileIdc)) {
    chromaFormatIdc = r.ue();
    if (chromaFormatIdc === 3) separateColourPlane = r.bit();
    r.ue(); // bit_depth_luma_minus8
    r.ue(); // bit_depth_chroma_minus8
    r.bit(); // qpprime_y_zero_transform_bypass_flag
    if (r.bit()) {
      const n = chromaFormatIdc !== 3 ? 8 : 12;
      for (let i = 0; i < n; i++) if (r.bit()) skipScalingList(r, i < 6 ? 16 : 64);
    }
  }
  const log2MaxFrameNum = r.ue() + 4;
  const pocType = r.ue();
  if (pocType === 0) {
    r.ue();
  } else if (pocType === 1) {
    r.bit();
    r.se();
    r.se();
    const n = r.ue();
    for (let i = 0; i < n; i++) r.se();
  }
  r.ue(); // max_num_ref_frames
  r.bit(); // gaps_in_frame_num_value_allowed_flag
  const widthMbs = r.ue() + 1;
  const heightMapUnits = r.ue() + 1;
  const frameMbsOnly = r.bit() === 1;
  if (!frameMbsOnly) r.bit(); // mb_adaptive_frame_field_flag
  r.bit(); // direct_8x8_inference_flag
  let cropL = 0;
  let cropR = 0;
  let cropT = 0;
  let cropB = 0;
  if (r.bit()) {
    cropL = r.ue();
    cropR = r.ue();
    cropT = r.ue();
    cropB = r.ue();
  }
  // Table 6-1 and equations 7-19..7-22.
  const chromaArrayType = separateColourPlane ? 0 : chromaFormatIdc;
  const subWidthC = chromaFormatIdc === 3 ? 1 : 2;
  const subHeightC = chromaFormatIdc === 1 ? 2 : 1;
  const cropUnitX = chromaArrayType === 0 ? 1 : subWidthC;
  const cropUnitY = (chromaArrayType === 0 ? 1 : subHeightC) * (frameMbsOnly ? 1 : 2);
  return {
    profileIdc,
    constraintFlags,
    levelIdc,
    chromaFormatIdc,
    frameMbsOnly,
    width: widthMbs * 16 - cropUnitX * (cropL + cropR),
    height: (frameMbsOnly ? 1 : 2) * heightMapUnits * 16 - cropUnitY * (cropT + cropB),
    log2MaxFrameNum,
    pocType,
  };
}

export function h264ProfileName(profileIdc: number, constraintFlags = 0): string {
  switch (profileIdc) {
    case 66: {
      return constraintFlags & 0x40 ? 'Constrained Baseline' : 'Baseline';
    }
    case 77: {
      return 'Main';
    }
    case 88: {
      return 'Extended';
    }
    case 100: {
      return 'High';
    }
    case 110: {
      return 'High 10';
    }
    case 122: {
      return 'High 4:2:2';
    }
    case 244: {
      return 'High 4:4:4 Predictive';
    }
    default: {
      return `profile ${profileIdc}`;
    }
  }
}

export function h264LevelName(levelIdc: number): string {
  return levelIdc % 10 === 0 ? `${levelIdc / 10}` : (levelIdc / 10).toFixed(1);
}

/** RFC 6381 codec string, `avc1.PPCCLL`. */
export function h264CodecString(profileIdc: number, constraintFlags: number, levelIdc: number): string {
  const hex = (n: number) => n.toString(16).padStart(2, '0');
  return `avc1.${hex(profileIdc)}${hex(constraintFlags)}${hex(levelIdc)}`;
}
