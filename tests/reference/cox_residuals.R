# Reference values for rechallenge.stats.coxresid from R survival 3.5 residuals.coxph.
#
# Run from the repository root:   Rscript tests/reference/cox_residuals.R
# Writes tests/reference/fixtures/coxx_residuals.json: lung (age, sex, ph.ecog; Efron and
# Breslow, with and without strata), heart (start, stop] and lung with non-integer weights.

suppressPackageStartupMessages(library(survival))
stopifnot(packageVersion("survival") >= "3.5")
source("tests/reference/json_writer.R")

res <- function(name, d, f, covs, strata = NULL, weights = FALSE, start = FALSE) {
  out <- list(name = scalar(name), time = d$time, event = d$event,
              x = lapply(covs, function(v) d[[v]]), start = if (start) d$start else NULL,
              w = if (weights) d$w else NULL,
              strata_col = if (is.null(strata)) NULL else as.character(d[[strata]]))
  for (ties in c("efron", "breslow")) {
    fit <- if (weights) coxph(f, data = d, ties = ties, weights = w, x = TRUE, model = TRUE)
           else coxph(f, data = d, ties = ties, x = TRUE, model = TRUE)
    sch <- as.matrix(residuals(fit, type = "schoenfeld"))
    out[[ties]] <- list(
      martingale = unname(residuals(fit, type = "martingale")),
      deviance = unname(residuals(fit, type = "deviance")),
      score = as.vector(residuals(fit, type = "score")),
      dfbeta = as.vector(residuals(fit, type = "dfbeta")),
      schoenfeld = as.vector(sch), schoenfeld_time = as.numeric(rownames(sch)))
  }
  out
}

l <- survival::lung[complete.cases(survival::lung[, c("time", "status", "age", "sex", "ph.ecog")]), ]
l <- data.frame(time = l$time, event = l$status - 1, age = l$age, sex = l$sex, ecog = l$ph.ecog,
                inst2 = ifelse(is.na(l$inst) | l$inst < 10, "lo", "hi"))
set.seed(9)
l$w <- round(runif(nrow(l), 0.3, 2.5), 2)
h <- survival::heart
h <- data.frame(start = h$start, time = h$stop, event = h$event, age = h$age,
                transplant = as.numeric(as.character(h$transplant)))

writeLines(to_json(list(cases = list(
  res("lung", l, Surv(time, event) ~ age + sex + ecog, c("age", "sex", "ecog")),
  res("lung_strata", l, Surv(time, event) ~ age + sex + strata(inst2), c("age", "sex"), "inst2"),
  res("lung_w", l, Surv(time, event) ~ age + sex, c("age", "sex"), weights = TRUE),
  res("heart", h, Surv(start, time, event) ~ age + transplant, c("age", "transplant"), start = TRUE)
))), "tests/reference/fixtures/coxx_residuals.json")
