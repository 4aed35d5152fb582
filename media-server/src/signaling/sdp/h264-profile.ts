/**
 * H264 profiles as told by profile-level-id (RFC 6184): two codecs are interchangeable when their profiles match and
 * their packetization-mode matches; the level may differ. The profile is read from profile_idc and the constraint
 * flags byte (profile_iop), since e.g. Constrained Baseline can be written 42e0.., 4de0.. or 58e0...
 */
export type H264Profile =
  | 'constrained-baseline'
  | 'baseline'
  | 'main'
  | 'extended'
  | 'high'
  | 'constrained-high'
  | 'predictive-high-444';

interface ProfilePattern {
  idc: number;
  /** bits of profile_iop that must be set / unset; unspecified bits are ignored */
  mask: number;
  value: number;
  profile: H264Profile;
}

// profile_iop bits: constraint_set0..5 flags from the most significant bit.
const patterns: readonly ProfilePattern[] = [
  { idc: 0x42, mask: 0x4f, value: 0x40, profile: 'constrained-baseline' },
  { idc: 0x4d, mask: 0x8f, value: 0x80, profile: 'constrained-baseline' },
  { idc: 0x58, mask: 0xcf, value: 0xc0, profile: 'constrained-baseline' },
  { idc: 0x42, mask: 0x4f, value: 0x00, profile: 'baseline' },
  { idc: 0x58, mask: 0xcf, value: 0x80, profile: 'baseline' },
  { idc: 0x4d, mask: 0xaf, value: 0x00, profile: 'main' },
  { idc: 0x58, mask: 0xcf, value: 0x00, profile: 'extended' },
  { idc: 0x64, mask: 0xff, value: 0x00, profile: 'high' },
  { idc: 0x64, mask: 0xff, value: 0x0c, profile: 'constrained-high' },
  { idc: 0xf4, mask: 0x7f, value: 0x00, profile: 'predictive-high-444' },
];

/** Default when the parameter is absent (RFC 6184: 420010, Constrained Baseline level 1). */
const DEFAULT_PROFILE_LEVEL_ID = '42e01f';

export function h264Profile(profileLevelId: unknown): H264Profile | undefined {
  const text = profileLevelId === undefined ? DEFAULT_PROFILE_LEVEL_ID : String(profileLevelId);
  if (!/^[0-9a-fA-F]{6}$/.test(text)) return undefined;
  const idc = Number.parseInt(text.slice(0, 2), 16);
  const iop = Number.parseInt(text.slice(2, 4), 16);
  return patterns.find((p) => p.idc === idc && (iop & p.mask) === p.value)?.profile;
}
