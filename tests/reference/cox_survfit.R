# Reference values for rechallenge.stats.coxsurv from R survival 3.5 survfit.coxph.
#
# Run from the repository root:   Rscript tests/reference/cox_survfit.R
# Writes tests/reference/fixtures/coxx_survfit.json: lung (age, sex), Efron and Breslow,
# curves for two covariate profiles (time, n.risk, surv, std.err, cumhaz, lower, upper).

suppressPackageStartupMessages(library(survival))
stopifnot(packageVersion("survival") >= "3.5")
source("tests/reference/json_writer.R")

l <- survival::lung[complete.cases(survival::lung[, c("time", "status", "age", "sex")]), ]
l <- data.frame(time = l$time, event = l$status - 1, age = l$age, sex = l$sex)
profiles <- data.frame(age = c(60, 70), sex = c(1, 2))
out <- list(time = l$time, event = l$event, age = l$age, sex = l$sex,
            profiles = list(age = profiles$age, sex = profiles$sex))
for (ties in c("efron", "breslow")) {
  fit <- coxph(Surv(time, event) ~ age + sex, data = l, ties = ties)
  sf <- survfit(fit, newdata = profiles)
  out[[ties]] <- list(time = sf$time, n_risk = sf$n.risk, n_event = sf$n.event,
                      surv = as.vector(sf$surv), std_err = as.vector(sf$std.err),
                      cumhaz = as.vector(sf$cumhaz), lower = as.vector(sf$lower),
                      upper = as.vector(sf$upper))
}
writeLines(to_json(out), "tests/reference/fixtures/coxx_survfit.json")
