// Package reliability is the plant twin's equipment-reliability engine:
// life-distribution fits to failure and suspension times, system
// availability with repair, the age-replacement optimum, an OEE adapted to
// a continuous line and a preventive-maintenance plan. It is pure: inputs
// in, results out, no I/O (the CLI and the API read CSV and JSON and hand
// it a []Observation).
//
// # Life data
//
// An [Observation] is a time (any unit; the results are in the same unit)
// and whether it ended in a failure or a suspension (right censoring: the
// item was still working when it was removed or the record closed). The
// log-likelihood of a model with density f and survivor function R is
//
//	log L = Σ_failures ln f(t_i) + Σ_suspensions ln R(t_j)
//
// in the units of t (not of ln t: some packages report the likelihood of
// ln t, which differs by Σ_failures ln t_i).
//
// Weibull, R(t) = exp(−(t/η)^β): the profile likelihood in β is maximised
// by solving (Lawless 2003, §5.2; NIST/SEMATECH e-Handbook §8.4.1.2)
//
//	Σ_all t^β ln t / Σ_all t^β − 1/β − (1/r) Σ_fail ln t = 0,
//	η = (Σ_all t^β / r)^(1/β)
//
// (r the number of failures; the left side increases in β, so bisection
// on it cannot miss the root). MTTF = η Γ(1+1/β).
//
// Exponential, R(t) = exp(−t/θ): θ = Σ_all t / r, MTTF = θ. It is reported
// as a Weibull with shape 1 and scale θ.
//
// Lognormal, ln T ~ N(μ, σ²): the MLE has no closed form with censoring;
// it is found by Newton steps on (μ, ln σ) from the uncensored moments. It
// is reported as shape σ and scale e^μ (the median); MTTF = e^(μ+σ²/2).
//
// Confidence bounds are Fisher-matrix bounds (two-sided, 95 % unless
// asked): the observed information of the log-likelihood at the MLE in
// the log parameters, inverted, gives the standard errors se; the bound of
// a positive parameter p is p·exp(±z·se(ln p)) (Meeker & Escobar 1998,
// §8.3; ReliaSoft's "Fisher matrix bounds"), so bounds stay positive.
//
// Model choice ("auto") is by Akaike's information criterion,
// AIC = 2k − 2 log L (k = 1 for the exponential, 2 for the others): the
// smallest AIC wins, ties to the model with fewer parameters. The
// NIST/SEMATECH e-Handbook (§8.4.1.3) compares Weibull and lognormal fits of
// censored data the same way.
//
// # Availability
//
// A repairable item with mean time between failures MTBF and mean time to
// repair MTTR is available A = MTBF/(MTBF+MTTR) of the time in the long run.
// For independent blocks: series A = Π A_i; parallel A = 1 − Π(1−A_i);
// k-out-of-n A = P(at least k of n up), by convolution of the blocks'
// up/down probabilities. A standby group (n identical units, k needed, cold
// or hot standby, c repair crews, exponential lives and repairs) is a
// birth–death chain in the number of failed units j: failures at rate
// k·λ (cold: only running units fail) or (n−j)·λ (hot), repairs at rate
// min(j, c)·μ; A = P(j ≤ n−k). It assumes perfect switching.
//
// # Age replacement
//
// Replace an item preventively at age T (cost c_p) or on failure (cost
// c_f > c_p), whichever comes first. The long-run cost per unit time is
// (Barlow & Proschan 1965)
//
//	C(T) = [c_p R(T) + c_f (1 − R(T))] / ∫₀ᵀ R(t) dt
//
// and the run-to-failure rate is c_f / MTTF. For a Weibull item
// ∫₀ᵀ R = η Γ(1+1/β) P(1/β, (T/η)^β), with P the regularised lower
// incomplete gamma function. The optimum solves
// h(T) ∫₀ᵀ R − F(T) = c_p/(c_f − c_p); the left side increases when β > 1,
// so bisection finds it. With β ≤ 1 (no wear-out) or c_p ≥ c_f preventive
// replacement never pays: the optimum is to run to failure.
//
// # OEE of a continuous line
//
// OEE = availability × performance × quality. For a continuous SX line
// (research note plant-trust §b.5, a proposal, not a standard):
// availability = run time ÷ planned time; performance = actual product
// (REO) output ÷ (nameplate rate × run time); quality = in-specification
// product ÷ total product. Performance above 1 (running over nameplate) is
// reported as measured, not capped.
package reliability
