# Reference values for Cox and Kaplan-Meier edge cases from R survival 3.5.
#
# Run from the repository root:   Rscript tests/reference/cox_edge.R
# Writes tests/reference/fixtures/coxx_edge.json: the data of each case and R's fit.
# Cases: fits that diverge (perfect separation) until exp(-eta) makes 1/S0^2 overflow,
# fits whose log partial likelihood is exactly 0 (every event alone in its risk set),
# and the restricted mean with a truncation point below every time (R stops).

suppressPackageStartupMessages(library(survival))
stopifnot(packageVersion("survival") >= "3.5")
source("tests/reference/json_writer.R")

fit_case <- function(name, d, covs, ties) {
  f <- as.formula(paste("Surv(time, event) ~", paste(covs, collapse = " + ")))
  warn <- character(0)
  fit <- withCallingHandlers(
    coxph(f, data = d, ties = ties),
    warning = function(w) {
      warn <<- c(warn, conditionMessage(w))
      invokeRestart("muffleWarning")
    }
  )
  list(
    name = scalar(name), ties = scalar(ties), covariates = covs,
    time = d$time, event = d$event, x = lapply(covs, function(v) d[[v]]),
    coef = unname(coef(fit)), var = as.vector(fit$var), loglik = fit$loglik,
    score = scalar(unname(fit$score)), wald = scalar(unname(fit$wald.test)),
    iter = scalar(fit$iter), warnings = warn
  )
}

set.seed(17)
cases <- list()
for (n in c(5, 30, 60, 120)) {
  d <- data.frame(time = 1:n, event = 1, x = -(1:n) / n)
  for (ties in c("efron", "breslow")) cases[[length(cases) + 1]] <- fit_case(paste0("sep", n), d, "x", ties)
}
# tied times within a separated fit (Efron's terms), and a second, ordinary covariate
n <- 80
d <- data.frame(time = rep(1:(n / 2), each = 2), event = 1, x = -rep(1:(n / 2), each = 2) / 4,
                z = round(rnorm(n), 2))
for (ties in c("efron", "breslow")) cases[[length(cases) + 1]] <- fit_case("sep_ties_z", d, c("x", "z"), ties)
# every event alone in its risk set: loglik 0 for every beta
d <- data.frame(time = c(1, 2, 3, 4), event = c(0, 0, 0, 1), x = c(1, 0, 1, 0), x2 = c(2, 0, 2, 0))
for (ties in c("efron", "breslow")) {
  cases[[length(cases) + 1]] <- fit_case("zero1", d, "x", ties)
  cases[[length(cases) + 1]] <- fit_case("zero2", d, c("x", "x2"), ties)
}

km <- survfit(Surv(c(5, 6, 7, 8), c(1, 1, 0, 1)) ~ 1)
rmst_error <- tryCatch({ print(km, rmean = 2); "" }, error = function(e) conditionMessage(e))
rmst_at_first <- summary(km, rmean = 5)$table[["rmean"]]

writeLines(to_json(list(
  survival = scalar(as.character(packageVersion("survival"))),
  cox = cases,
  rmst = list(time = c(5, 6, 7, 8), event = c(1, 1, 0, 1), tau_below = scalar(2),
              error = scalar(rmst_error), tau_first = scalar(5), rmean_first = scalar(rmst_at_first))
)), "tests/reference/fixtures/coxx_edge.json")
