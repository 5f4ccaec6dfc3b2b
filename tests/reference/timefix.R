# Reference values for R survival's timefix rule (aeqSurv): near-tied times merged.
#
# Run from the repository root:   Rscript tests/reference/timefix.R
# Writes tests/reference/fixtures/coxx_timefix.json: times computed as sums that differ
# by rounding (e.g. 0.1 + 0.2 and 0.3), with coxph/survfit under timefix = TRUE and FALSE.

suppressPackageStartupMessages(library(survival))
stopifnot(packageVersion("survival") >= "3.5")
source("tests/reference/json_writer.R")

set.seed(4)
n <- 60
base <- sample(1:15, n, TRUE) / 10
time <- ifelse(seq_len(n) %% 3 == 0, base + 0.1 + 0.2 - 0.3, base)  # rounding noise
event <- rbinom(n, 1, 0.7)
x <- round(rnorm(n), 1)
res <- list()
for (fix in c(TRUE, FALSE)) {
  fit <- coxph(Surv(time, event) ~ x, timefix = fix)
  km <- survfit(Surv(time, event) ~ 1, timefix = fix)
  res[[if (fix) "fixed" else "exact"]] <- list(
    coef = unname(coef(fit)), var = as.vector(fit$var), loglik = fit$loglik,
    km_time = km$time, km_surv = km$surv, km_n_risk = km$n.risk)
}
fixed_times <- unname(aeqSurv(Surv(time, event))[, 1])
writeLines(to_json(list(time = time, event = event, x = x, aeq = fixed_times,
                        fixed = res$fixed, exact = res$exact)),
           "tests/reference/fixtures/coxx_timefix.json")
