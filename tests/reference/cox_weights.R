# Reference values for Cox case weights from R survival 3.5: coxph(..., weights = w).
#
# Run from the repository root:   Rscript tests/reference/cox_weights.R
# Writes tests/reference/fixtures/coxx_weights.json: lung (complete cases of age, sex,
# ph.ecog) with generated weights, Efron and Breslow, with and without strata, and
# counting-process heart with weights; plus integer weights on a small set, whose fit
# equals the fit of the replicated rows.

suppressPackageStartupMessages(library(survival))
stopifnot(packageVersion("survival") >= "3.5")
source("tests/reference/json_writer.R")

one <- function(name, d, f, covs, strata = NULL, start = FALSE) {
  out <- list(name = scalar(name), covariates = covs, time = d$time, event = d$event,
              w = d$w, x = lapply(covs, function(v) d[[v]]),
              start = if (start) d$start else NULL,
              strata_col = if (is.null(strata)) NULL else as.character(d[[strata]]))
  for (ties in c("efron", "breslow")) {
    fit <- coxph(f, data = d, weights = w, ties = ties)
    out[[ties]] <- list(coef = unname(coef(fit)), var = as.vector(fit$var), loglik = fit$loglik,
                        score = scalar(unname(fit$score)), wald = scalar(unname(fit$wald.test)),
                        iter = scalar(fit$iter), n = scalar(fit$n), events = scalar(fit$nevent))
  }
  out
}

set.seed(8)
lung2 <- survival::lung[complete.cases(survival::lung[, c("time", "status", "age", "sex", "ph.ecog")]), ]
lung2 <- data.frame(time = lung2$time, event = lung2$status - 1, age = lung2$age,
                    sex = lung2$sex, ecog = lung2$ph.ecog, inst = lung2$inst)
lung2$w <- round(runif(nrow(lung2), 0.2, 3), 2)
lung2$inst[is.na(lung2$inst)] <- 0
lung2$inst2 <- ifelse(lung2$inst < 10, "lo", "hi")
h <- survival::heart
h <- data.frame(start = h$start, time = h$stop, event = h$event, age = h$age,
                transplant = as.numeric(as.character(h$transplant)))
h$w <- round(runif(nrow(h), 0.5, 2), 1)
small <- data.frame(time = c(2, 3, 3, 5, 7, 7, 8, 10), event = c(1, 1, 1, 0, 1, 1, 0, 1),
                    x = c(0, 1, 0, 1, 1, 0, 0, 1), w = c(1, 2, 3, 1, 2, 1, 1, 2))
rep_small <- small[rep(seq_len(nrow(small)), small$w), ]
rep_small$w <- 1

writeLines(to_json(list(
  survival = scalar(as.character(packageVersion("survival"))),
  cases = list(
    one("lung", lung2, Surv(time, event) ~ age + sex + ecog, c("age", "sex", "ecog")),
    one("lung_strata", lung2, Surv(time, event) ~ age + sex + strata(inst2), c("age", "sex"), "inst2"),
    one("heart", h, Surv(start, time, event) ~ age + transplant, c("age", "transplant"), start = TRUE),
    one("small", small, Surv(time, event) ~ x, "x"),
    one("small_replicated", rep_small, Surv(time, event) ~ x, "x")
  )
)), "tests/reference/fixtures/coxx_weights.json")
