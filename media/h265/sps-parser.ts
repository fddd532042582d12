import { RbspReader } from '../h264/rbsp-reader.js';

export interface H265Sps {
  profileIdc: number;
  levelIdc: number;
  chromaFormatIdc: number;
  width: number;
  height: number;
}

/** Parses an H.265 SPS NAL unit (2-byte header included) up to the picture size (ITU-T H.265 7.3.2.2.1). */
export function parseH265Sps(nal: Uint8Array): H265Sps {
  const r = new RbspReader(nal, 2);
  r.bits(4); // sps_video_parameter_set_id
  const maxSubLayersMinus1 = r.bits(3);
  r.bit(); // sps_temporal_id_nesting_flag
  // profile_tier_level(1, maxSubLayersMinus1), 7.3.3
  r.bits(2);
  r.bit();
  const profileIdc = r.bits(5);
  r.skip(32 + 48);
  const levelIdc = r.bits(8);
  const subProfile: number[] = [];
  const subLevel: number[] = [];
  for (let i = 0; i < maxSubLayersMinus1; i++) {
    subProfile.push(r.bit());
    subLevel.push(r.bit());
  }
  if (maxSubLayersMinus1 > 0) for (let i = maxSubLayersMinus1; i < 8; i++) r.bits(2);
  for (let i = 0; i < maxSubLayersMinus1; i++) {
    if (subProfile[i]) r.skip(88);
    if (subLevel[i]) r.skip(8);
  }
  r.ue(); // sps_seq_parameter_set_id
  const chromaFormatIdc = r.ue();
  if (chromaFormatIdc === 3) r.bit();
  let width = r.ue();
  let height = r.ue();
  if (r.bit()) {
    const subW = chromaFormatIdc === 1 || chromaFormatIdc === 2 ? 2 : 1;
    const subH = chromaFormatIdc === 1 ? 2 : 1;
    const l = r.ue();
    const rr = r.ue();
    const t = r.ue();
    const b = r.ue();
    width -= subW * (l + rr);
    height -= subH * (t + b);
  }
  return { profileIdc, levelIdc, chromaFormatIdc, width, height };
}
