/// WorldQuant's 101 Formulaic Alphas (Z. Kakushadze, "101 Formulaic Alphas", Wilmott 2016, arXiv:1601.00991,
/// Appendix A) in FactorLab's `WQ` operators, selectable as the expression library `wq101` (columns `WQ_001` …).
///
/// Transcribed from the MIT-licensed PyPI package `alpha101v` 0.1.9 (`alpha101v/factors.py`), the reference that
/// `interop/wq101_check.py` compares against cell by cell, so its conventions are the ones used here:
/// - cross-sectional `rank` → `WQRank` ((r−1)/(n−1), average ties), `scale` → `WQScale` (x / Σ|x| per date),
///   `IndNeutralize(x, IndClass.sector)` → `IndNeutralize(x, $sector)`; `IndClass.industry` and
///   `IndClass.subindustry` → `IndNeutralize(x, $industry)` (the data's finest level is the CSRC industry);
/// - every time-series window is strict (NaN unless all of its rows are valid), except `WQDecayLinear`, which counts
///   NaN as 0 inside a window that has at least one value (weights d for today down to 1); `stddev` and
///   `covariance` use ddof 0; `ts_argmax`/`ts_argmin` count days ago (0 = today, ties to the oldest day);
/// - fractional windows are floored (the paper's rule: 9.91009 → 9, 3.65459 → 3);
/// - `returns` = `$close/Ref($close, 1) - 1`; `adv{d}` = `$adv{d}`, the mean SHARE volume of d days (alpha101v
///   averages its `amount` field; the paper says dollar volume but compares adv with share volume);
/// - comparisons give 1/0 (NaN when either side is NaN or inf: `WQLt`, `WQGt`, `WQEq`), `c ? y : z` → `WQIf`
///   (NaN condition → NaN), `||` → `WQOr` (three-valued), two-expression `min`/`max` → `WQMin`/`WQMax` (NaN skipped),
///   infix `^` → `WQPower` (BRAIN `power`: 0^a = 0), `log` → `WQLog` (x ≤ 0 → NaN), `SignedPower` → `WQSignedPower`;
/// - the formulas are literal, in alpha101v's evaluation order (`(vwap*0.728317)+(vwap*(1-0.728317))` is not
///   simplified, `-1 * x` stays a multiplication) so that floating-point results agree.
///
/// Alpha 56 needs market capitalisation and is left out (`omitted`).
public enum WorldQuant101 {
    /// `(number, expression)` for every alpha the data can express, in the paper's order.
    public static let alphas: [(number: Int, expression: String)] = [
        (1, "WQRank(WQTsArgMax(WQSignedPower(WQIf(WQLt(($close/Ref($close, 1) - 1), 0), WQStdDev(($close/Ref($close, 1) - 1), 20), $close), 2.0), 5)) - 0.5"),
        (2, "-1 * WQCorrelation(WQRank(Delta(WQLog($volume), 2)), WQRank(($close - $open) / $open), 6)"),
        (3, "-1 * WQCorrelation(WQRank($open), WQRank($volume), 10)"),
        (4, "-1 * WQTsRank(WQRank($low), 9)"),
        (5, "WQRank($open - (WQSum($vwap, 10) / 10)) * (-1 * Abs(WQRank($close - $vwap)))"),
        (6, "-1 * WQCorrelation($open, $volume, 10)"),
        (7, "WQIf(WQLt($adv20, $volume), (-1 * WQTsRank(Abs(Delta($close, 7)), 60)) * Sign(Delta($close, 7)), -1 * 1)"),
        (8, "-1 * WQRank((WQSum($open, 5) * WQSum(($close/Ref($close, 1) - 1), 5)) - Ref(WQSum($open, 5) * WQSum(($close/Ref($close, 1) - 1), 5), 10))"),
        (9, "WQIf(WQLt(0, WQTsMin(Delta($close, 1), 5)), Delta($close, 1), WQIf(WQLt(WQTsMax(Delta($close, 1), 5), 0), Delta($close, 1), -1 * Delta($close, 1)))"),
        (10, "WQRank(WQIf(WQLt(0, WQTsMin(Delta($close, 1), 4)), Delta($close, 1), WQIf(WQLt(WQTsMax(Delta($close, 1), 4), 0), Delta($close, 1), -1 * Delta($close, 1))))"),
        (11, "(WQRank(WQTsMax($vwap - $close, 3)) + WQRank(WQTsMin($vwap - $close, 3))) * WQRank(Delta($volume, 3))"),
        (12, "Sign(Delta($volume, 1)) * (-1 * Delta($close, 1))"),
        (13, "-1 * WQRank(WQCovariance(WQRank($close), WQRank($volume), 5))"),
        (14, "(-1 * WQRank(Delta(($close/Ref($close, 1) - 1), 3))) * WQCorrelation($open, $volume, 10)"),
        (15, "-1 * WQSum(WQRank(WQCorrelation(WQRank($high), WQRank($volume), 3)), 3)"),
        (16, "-1 * WQRank(WQCovariance(WQRank($high), WQRank($volume), 5))"),
        (17, "((-1 * WQRank(WQTsRank($close, 10))) * WQRank(Delta(Delta($close, 1), 1))) * WQRank(WQTsRank($volume / $adv20, 5))"),
        (18, "-1 * WQRank((WQStdDev(Abs($close - $open), 5) + ($close - $open)) + WQCorrelation($close, $open, 10))"),
        (19, "(-1 * Sign(($close - Ref($close, 7)) + Delta($close, 7))) * (1 + WQRank(1 + WQSum(($close/Ref($close, 1) - 1), 250)))"),
        (20, "((-1 * WQRank($open - Ref($high, 1))) * WQRank($open - Ref($close, 1))) * WQRank($open - Ref($low, 1))"),
        (21, "WQIf(WQLt((WQSum($close, 8) / 8) + WQStdDev($close, 8), WQSum($close, 2) / 2), -1 * 1, WQIf(WQLt(WQSum($close, 2) / 2, (WQSum($close, 8) / 8) - WQStdDev($close, 8)), 1, WQIf(WQOr(WQLt(1, $volume / $adv20), WQEq($volume / $adv20, 1)), 1, -1 * 1)))"),
        (22, "-1 * (Delta(WQCorrelation($high, $volume, 5), 5) * WQRank(WQStdDev($close, 20)))"),
        (23, "WQIf(WQLt(WQSum($high, 20) / 20, $high), -1 * Delta($high, 2), 0)"),
        (24, "WQIf(WQOr(WQLt(Delta(WQSum($close, 100) / 100, 100) / Ref($close, 100), 0.05), WQEq(Delta(WQSum($close, 100) / 100, 100) / Ref($close, 100), 0.05)), -1 * ($close - WQTsMin($close, 100)), -1 * Delta($close, 3))"),
        (25, "WQRank((((-1 * ($close/Ref($close, 1) - 1)) * $adv20) * $vwap) * ($high - $close))"),
        (26, "-1 * WQTsMax(WQCorrelation(WQTsRank($volume, 5), WQTsRank($high, 5), 5), 3)"),
        (27, "WQIf(WQLt(0.5, WQRank(WQSum(WQCorrelation(WQRank($volume), WQRank($vwap), 6), 2) / 2.0)), -1 * 1, 1)"),
        (28, "WQScale((WQCorrelation($adv20, $low, 5) + (($high + $low) / 2)) - $close)"),
        (29, "WQTsMin(WQProduct(WQRank(WQRank(WQScale(WQLog(WQSum(WQTsMin(WQRank(WQRank(-1 * WQRank(Delta($close - 1, 5)))), 2), 1))))), 1), 5) + WQTsRank(Ref(-1 * ($close/Ref($close, 1) - 1), 6), 5)"),
        (30, "((1.0 - WQRank((Sign($close - Ref($close, 1)) + Sign(Ref($close, 1) - Ref($close, 2))) + Sign(Ref($close, 2) - Ref($close, 3)))) * WQSum($volume, 5)) / WQSum($volume, 20)"),
        (31, "(WQRank(WQRank(WQRank(WQDecayLinear(-1 * WQRank(WQRank(Delta($close, 10))), 10)))) + WQRank(-1 * Delta($close, 3))) + Sign(WQScale(WQCorrelation($adv20, $low, 12)))"),
        (32, "WQScale((WQSum($close, 7) / 7) - $close) + (20 * WQScale(WQCorrelation($vwap, Ref($close, 5), 230)))"),
        (33, "WQRank(-1 * WQPower(1 - ($open / $close), 1))"),
        (34, "WQRank((1 - WQRank(WQStdDev(($close/Ref($close, 1) - 1), 2) / WQStdDev(($close/Ref($close, 1) - 1), 5))) + (1 - WQRank(Delta($close, 1))))"),
        (35, "(WQTsRank($volume, 32) * (1 - WQTsRank(($close + $high) - $low, 16))) * (1 - WQTsRank(($close/Ref($close, 1) - 1), 32))"),
        (36, "((((2.21 * WQRank(WQCorrelation($close - $open, Ref($volume, 1), 15))) + (0.7 * WQRank($open - $close))) + (0.73 * WQRank(WQTsRank(Ref(-1 * ($close/Ref($close, 1) - 1), 6), 5)))) + WQRank(Abs(WQCorrelation($vwap, $adv20, 6)))) + (0.6 * WQRank(((WQSum($close, 200) / 200) - $open) * ($close - $open)))"),
        (37, "WQRank(WQCorrelation(Ref($open - $close, 1), $close, 200)) + WQRank($open - $close)"),
        (38, "(-1 * WQRank(WQTsRank($close, 10))) * WQRank($close / $open)"),
        (39, "(-1 * WQRank(Delta($close, 7) * (1 - WQRank(WQDecayLinear($volume / $adv20, 9))))) * (1 + WQRank(WQSum(($close/Ref($close, 1) - 1), 250)))"),
        (40, "(-1 * WQRank(WQStdDev($high, 10))) * WQCorrelation($high, $volume, 10)"),
        (41, "WQPower($high * $low, 0.5) - $vwap"),
        (42, "WQRank($vwap - $close) / WQRank($vwap + $close)"),
        (43, "WQTsRank($volume / $adv20, 20) * WQTsRank(-1 * Delta($close, 7), 8)"),
        (44, "-1 * WQCorrelation($high, WQRank($volume), 5)"),
        (45, "-1 * ((WQRank(WQSum(Ref($close, 5), 20) / 20) * WQCorrelation($close, $volume, 2)) * WQRank(WQCorrelation(WQSum($close, 5), WQSum($close, 20), 2)))"),
        (46, "WQIf(WQLt(0.25, ((Ref($close, 20) - Ref($close, 10)) / 10) - ((Ref($close, 10) - $close) / 10)), -1 * 1, WQIf(WQLt(((Ref($close, 20) - Ref($close, 10)) / 10) - ((Ref($close, 10) - $close) / 10), 0), 1, (-1 * 1) * ($close - Ref($close, 1))))"),
        (47, "(((WQRank(1 / $close) * $volume) / $adv20) * (($high * WQRank($high - $close)) / (WQSum($high, 5) / 5))) - WQRank($vwap - Ref($vwap, 5))"),
        (48, "IndNeutralize((WQCorrelation(Delta($close, 1), Delta(Ref($close, 1), 1), 250) * Delta($close, 1)) / $close, $industry) / WQSum(WQPower(Delta($close, 1) / Ref($close, 1), 2), 250)"),
        (49, "WQIf(WQLt(((Ref($close, 20) - Ref($close, 10)) / 10) - ((Ref($close, 10) - $close) / 10), -1 * 0.1), 1, (-1 * 1) * ($close - Ref($close, 1)))"),
        (50, "-1 * WQTsMax(WQRank(WQCorrelation(WQRank($volume), WQRank($vwap), 5)), 5)"),
        (51, "WQIf(WQLt(((Ref($close, 20) - Ref($close, 10)) / 10) - ((Ref($close, 10) - $close) / 10), -1 * 0.05), 1, (-1 * 1) * ($close - Ref($close, 1)))"),
        (52, "(((-1 * WQTsMin($low, 5)) + Ref(WQTsMin($low, 5), 5)) * WQRank((WQSum(($close/Ref($close, 1) - 1), 240) - WQSum(($close/Ref($close, 1) - 1), 20)) / 220)) * WQTsRank($volume, 5)"),
        (53, "-1 * Delta((($close - $low) - ($high - $close)) / ($close - $low), 9)"),
        (54, "(-1 * (($low - $close) * WQPower($open, 5))) / (($low - $high) * WQPower($close, 5))"),
        (55, "-1 * WQCorrelation(WQRank(($close - WQTsMin($low, 12)) / (WQTsMax($high, 12) - WQTsMin($low, 12))), WQRank($volume), 6)"),
        (57, "0 - (1 * (($close - $vwap) / WQDecayLinear(WQRank(WQTsArgMax($close, 30)), 2)))"),
        (58, "-1 * WQTsRank(WQDecayLinear(WQCorrelation(IndNeutralize($vwap, $sector), $volume, 3), 7), 5)"),
        (59, "-1 * WQTsRank(WQDecayLinear(WQCorrelation(IndNeutralize(($vwap * 0.728317) + ($vwap * (1 - 0.728317)), $industry), $volume, 4), 16), 8)"),
        (60, "0 - (1 * ((2 * WQScale(WQRank(((($close - $low) - ($high - $close)) / ($high - $low)) * $volume))) - WQScale(WQRank(WQTsArgMax($close, 10)))))"),
        (61, "WQLt(WQRank($vwap - WQTsMin($vwap, 16)), WQRank(WQCorrelation($vwap, $adv180, 17)))"),
        (62, "WQLt(WQRank(WQCorrelation($vwap, WQSum($adv20, 22), 9)), WQRank(WQLt(WQRank($open) + WQRank($open), WQRank(($high + $low) / 2) + WQRank($high)))) * -1"),
        (63, "(WQRank(WQDecayLinear(Delta(IndNeutralize($close, $industry), 2), 8)) - WQRank(WQDecayLinear(WQCorrelation(($vwap * 0.318108) + ($open * (1 - 0.318108)), WQSum($adv180, 37), 13), 12))) * -1"),
        (64, "WQLt(WQRank(WQCorrelation(WQSum(($open * 0.178404) + ($low * (1 - 0.178404)), 12), WQSum($adv120, 12), 16)), WQRank(Delta(((($high + $low) / 2) * 0.178404) + ($vwap * (1 - 0.178404)), 3))) * -1"),
        (65, "WQLt(WQRank(WQCorrelation(($open * 0.00817205) + ($vwap * (1 - 0.00817205)), WQSum($adv60, 8), 6)), WQRank($open - WQTsMin($open, 13))) * -1"),
        (66, "(WQRank(WQDecayLinear(Delta($vwap, 3), 7)) + WQTsRank(WQDecayLinear(((($low * 0.96633) + ($low * (1 - 0.96633))) - $vwap) / ($open - (($high + $low) / 2)), 11), 6)) * -1"),
        (67, "WQPower(WQRank($high - WQTsMin($high, 2)), WQRank(WQCorrelation(IndNeutralize($vwap, $sector), IndNeutralize($adv20, $industry), 6))) * -1"),
        (68, "WQLt(WQTsRank(WQCorrelation(WQRank($high), WQRank($adv15), 8), 13), WQRank(Delta(($close * 0.518371) + ($low * (1 - 0.518371)), 1))) * -1"),
        (69, "WQPower(WQRank(WQTsMax(Delta(IndNeutralize($vwap, $industry), 2), 4)), WQTsRank(WQCorrelation(($close * 0.490655) + ($vwap * (1 - 0.490655)), $adv20, 4), 9)) * -1"),
        (70, "WQPower(WQRank(Delta($vwap, 1)), WQTsRank(WQCorrelation(IndNeutralize($close, $industry), $adv50, 17), 17)) * -1"),
        (71, "WQMax(WQTsRank(WQDecayLinear(WQCorrelation(WQTsRank($close, 3), WQTsRank($adv180, 12), 18), 4), 15), WQTsRank(WQDecayLinear(WQPower(WQRank(($low + $open) - ($vwap + $vwap)), 2), 16), 4))"),
        (72, "WQRank(WQDecayLinear(WQCorrelation(($high + $low) / 2, $adv40, 8), 10)) / WQRank(WQDecayLinear(WQCorrelation(WQTsRank($vwap, 3), WQTsRank($volume, 18), 6), 2))"),
        (73, "WQMax(WQRank(WQDecayLinear(Delta($vwap, 4), 2)), WQTsRank(WQDecayLinear((Delta(($open * 0.147155) + ($low * (1 - 0.147155)), 2) / (($open * 0.147155) + ($low * (1 - 0.147155)))) * -1, 3), 16)) * -1"),
        (74, "WQLt(WQRank(WQCorrelation($close, WQSum($adv30, 37), 15)), WQRank(WQCorrelation(WQRank(($high * 0.0261661) + ($vwap * (1 - 0.0261661))), WQRank($volume), 11))) * -1"),
        (75, "WQLt(WQRank(WQCorrelation($vwap, $volume, 4)), WQRank(WQCorrelation(WQRank($low), WQRank($adv50), 12)))"),
        (76, "WQMax(WQRank(WQDecayLinear(Delta($vwap, 1), 11)), WQTsRank(WQDecayLinear(WQTsRank(WQCorrelation(IndNeutralize($low, $sector), $adv81, 8), 19), 17), 19)) * -1"),
        (77, "WQMin(WQRank(WQDecayLinear(((($high + $low) / 2) + $high) - ($vwap + $high), 20)), WQRank(WQDecayLinear(WQCorrelation(($high + $low) / 2, $adv40, 3), 5)))"),
        (78, "WQPower(WQRank(WQCorrelation(WQSum(($low * 0.352233) + ($vwap * (1 - 0.352233)), 19), WQSum($adv40, 19), 6)), WQRank(WQCorrelation(WQRank($vwap), WQRank($volume), 5)))"),
        (79, "WQLt(WQRank(Delta(IndNeutralize(($close * 0.60733) + ($open * (1 - 0.60733)), $sector), 1)), WQRank(WQCorrelation(WQTsRank($vwap, 3), WQTsRank($adv150, 9), 14)))"),
        (80, "WQPower(WQRank(Sign(Delta(IndNeutralize(($open * 0.868128) + ($high * (1 - 0.868128)), $industry), 4))), WQTsRank(WQCorrelation($high, $adv10, 5), 5)) * -1"),
        (81, "WQLt(WQRank(WQLog(WQProduct(WQRank(WQPower(WQRank(WQCorrelation($vwap, WQSum($adv10, 49), 8)), 4)), 14))), WQRank(WQCorrelation(WQRank($vwap), WQRank($volume), 5))) * -1"),
        (82, "WQMin(WQRank(WQDecayLinear(Delta($open, 1), 14)), WQTsRank(WQDecayLinear(WQCorrelation(IndNeutralize($volume, $sector), ($open * 0.634196) + ($open * (1 - 0.634196)), 17), 6), 13)) * -1"),
        (83, "(WQRank(Ref(($high - $low) / (WQSum($close, 5) / 5), 2)) * WQRank(WQRank($volume))) / ((($high - $low) / (WQSum($close, 5) / 5)) / ($vwap - $close))"),
        (84, "WQSignedPower(WQTsRank($vwap - WQTsMax($vwap, 15), 20), Delta($close, 4))"),
        (85, "WQPower(WQRank(WQCorrelation(($high * 0.876703) + ($close * (1 - 0.876703)), $adv30, 9)), WQRank(WQCorrelation(WQTsRank(($high + $low) / 2, 3), WQTsRank($volume, 10), 7)))"),
        (86, "WQLt(WQTsRank(WQCorrelation($close, WQSum($adv20, 14), 6), 20), WQRank(($open + $close) - ($vwap + $open))) * -1"),
        (87, "WQMax(WQRank(WQDecayLinear(Delta(($close * 0.369701) + ($vwap * (1 - 0.369701)), 1), 2)), WQTsRank(WQDecayLinear(Abs(WQCorrelation(IndNeutralize($adv81, $industry), $close, 13)), 4), 14)) * -1"),
        (88, "WQMin(WQRank(WQDecayLinear((WQRank($open) + WQRank($low)) - (WQRank($high) + WQRank($close)), 8)), WQTsRank(WQDecayLinear(WQCorrelation(WQTsRank($close, 8), WQTsRank($adv60, 20), 8), 6), 2))"),
        (89, "WQTsRank(WQDecayLinear(WQCorrelation(($low * 0.967285) + ($low * (1 - 0.967285)), $adv10, 6), 5), 3) - WQTsRank(WQDecayLinear(Delta(IndNeutralize($vwap, $industry), 3), 10), 15)"),
        (90, "WQPower(WQRank($close - WQTsMax($close, 4)), WQTsRank(WQCorrelation(IndNeutralize($adv40, $industry), $low, 5), 3)) * -1"),
        (91, "(WQTsRank(WQDecayLinear(WQDecayLinear(WQCorrelation(IndNeutralize($close, $industry), $volume, 9), 16), 3), 4) - WQRank(WQDecayLinear(WQCorrelation($vwap, $adv30, 4), 2))) * -1"),
        (92, "WQMin(WQTsRank(WQDecayLinear(WQLt((($high + $low) / 2) + $close, $low + $open), 14), 18), WQTsRank(WQDecayLinear(WQCorrelation(WQRank($low), WQRank($adv30), 7), 6), 6))"),
        (93, "WQTsRank(WQDecayLinear(WQCorrelation(IndNeutralize($vwap, $industry), $adv81, 17), 19), 7) / WQRank(WQDecayLinear(Delta(($close * 0.524434) + ($vwap * (1 - 0.524434)), 2), 16))"),
        (94, "WQPower(WQRank($vwap - WQTsMin($vwap, 11)), WQTsRank(WQCorrelation(WQTsRank($vwap, 19), WQTsRank($adv60, 4), 18), 2)) * -1"),
        (95, "WQLt(WQRank($open - WQTsMin($open, 12)), WQTsRank(WQPower(WQRank(WQCorrelation(WQSum(($high + $low) / 2, 19), WQSum($adv40, 19), 12)), 5), 11))"),
        (96, "WQMax(WQTsRank(WQDecayLinear(WQCorrelation(WQRank($vwap), WQRank($volume), 3), 4), 8), WQTsRank(WQDecayLinear(WQTsArgMax(WQCorrelation(WQTsRank($close, 7), WQTsRank($adv60, 4), 3), 12), 14), 13)) * -1"),
        (97, "(WQRank(WQDecayLinear(Delta(IndNeutralize(($low * 0.721001) + ($vwap * (1 - 0.721001)), $industry), 3), 20)) - WQTsRank(WQDecayLinear(WQTsRank(WQCorrelation(WQTsRank($low, 7), WQTsRank($adv60, 17), 4), 18), 15), 6)) * -1"),
        (98, "WQRank(WQDecayLinear(WQCorrelation($vwap, WQSum($adv5, 26), 4), 7)) - WQRank(WQDecayLinear(WQTsRank(WQTsArgMin(WQCorrelation(WQRank($open), WQRank($adv15), 20), 8), 6), 8))"),
        (99, "WQLt(WQRank(WQCorrelation(WQSum(($high + $low) / 2, 19), WQSum($adv60, 19), 8)), WQRank(WQCorrelation($low, $volume, 6))) * -1"),
        (100, "0 - (1 * (((1.5 * WQScale(IndNeutralize(IndNeutralize(WQRank(((($close - $low) - ($high - $close)) / ($high - $low)) * $volume), $industry), $industry))) - WQScale(IndNeutralize(WQCorrelation($close, WQRank($adv20), 5) - WQRank(WQTsArgMin($close, 30)), $industry))) * ($volume / $adv20)))"),
        (101, "($close - $open) / (($high - $low) + 0.001)"),
    ]

    /// The alphas left out, with the reason.
    public static let omitted: [(number: Int, reason: String)] = [
        (56, "needs market capitalisation ($cap), which the data sets lack"),
    ]
}
