# Reference values for rechallenge.stats.parametric (exponential and Weibull fits) from
# R survival's survreg.
#
# Run from the repository root:   Rscript tests/reference/prognosis.R
# Reads the analysed rows in tests/reference/data/ and writes
# tests/reference/fixtures/prog_survreg_<name>.json: for each distribution the
# coefficients, scale, vcov (on the (beta, log scale) scale, column-major), loglik and
# iterations, and the median of the intercept-only curve.

suppressPackageStartupMessages(library(survival))
stopifnot(packageVersion("survival") >= "3.5")
source("tests/reference/json_writer.R")
out_fix <- "tests/reference/fixtures"

cases <- list(
  lung = list(file = "cox_lung.csv", covs = c("age", "sex")),
  lung_null = list(file = "cox_lung.csv", covs = character(0)),
  veteran = list(file = "cox_veteran.csv", covs = c("trt", "karno", "age")),
  veteran_null = list(file = "cox_veteran.csv", covs = character(0)),
  aml = list(file = "cox_aml.csv", covs = character(0)),
  ovarian = list(file = "cox_ovarian.csv", covs = c("age"))
)

for (name in names(cases)) {
  cc <- cases[[name]]
  d <- read.csv(file.path("tests/reference/data", cc$file))
  d <- d[d$time > 0, c("time", "event", cc$covs), drop = FALSE]
  rhs <- if (length(cc$covs)) paste(cc$covs, collapse = " + ") else "1"
  f <- as.formula(paste("Surv(time, event) ~", rhs))
  fits <- list()
  for (dist in c("weibull", "exponential")) {
    fit <- survreg(f, data = d, dist = dist)
    med <- if (length(cc$covs) == 0) {
      predict(fit, newdata = d[1, , drop = FALSE], type = "quantile", p = 0.5)[[1]]
    } else NA_real_
    fits[[dist]] <- list(
      coef = unname(coef(fit)), scale = scalar(fit$scale),
      var = as.vector(vcov(fit)), loglik = scalar(fit$loglik[2]),
      iterations = scalar(fit$iter), median = scalar(med)
    )
  }
  fixture <- list(
    name = scalar(name), covariates = cc$covs, n = scalar(nrow(d)),
    data = scalar(cc$file), fits = fits
  )
  writeLines(to_json(fixture), file.path(out_fix, paste0("prog_survreg_", name, ".json")))
}
