# Reference values for the robust (sandwich) Cox variance with clusters, R survival 3.5:
# coxph(..., cluster = id).
#
# Run from the repository root:   Rscript tests/reference/cox_cluster.R
# Writes tests/reference/fixtures/coxx_cluster.json: lung with institution clusters
# (Efron and Breslow), heart (start, stop] with patient clusters, and lung with integer
# weights plus clusters.

suppressPackageStartupMessages(library(survival))
stopifnot(packageVersion("survival") >= "3.5")
source("tests/reference/json_writer.R")

one <- function(name, d, f, covs, weights = FALSE, start = FALSE) {
  out <- list(name = scalar(name), covariates = covs, time = d$time, event = d$event,
              cluster = as.character(d$id), x = lapply(covs, function(v) d[[v]]),
              w = if (weights) d$w else NULL, start = if (start) d$start else NULL)
  for (ties in c("efron", "breslow")) {
    fit <- if (weights) coxph(f, data = d, cluster = id, weights = w, ties = ties)
           else coxph(f, data = d, cluster = id, ties = ties)
    out[[ties]] <- list(coef = unname(coef(fit)), var = as.vector(fit$var),
                        naive_var = as.vector(fit$naive.var))
  }
  out
}

l <- survival::lung[complete.cases(survival::lung[, c("time", "status", "age", "sex", "inst")]), ]
l <- data.frame(time = l$time, event = l$status - 1, age = l$age, sex = l$sex, id = l$inst)
set.seed(3)
l$w <- sample(1:3, nrow(l), TRUE)
h <- survival::heart
h <- data.frame(start = h$start, time = h$stop, event = h$event, age = h$age,
                transplant = as.numeric(as.character(h$transplant)), id = h$id)

writeLines(to_json(list(
  survival = scalar(as.character(packageVersion("survival"))),
  cases = list(
    one("lung_inst", l, Surv(time, event) ~ age + sex, c("age", "sex")),
    one("lung_inst_w", l, Surv(time, event) ~ age + sex, c("age", "sex"), weights = TRUE),
    one("heart_id", h, Surv(start, time, event) ~ age + transplant, c("age", "transplant"), start = TRUE)
  )
)), "tests/reference/fixtures/coxx_cluster.json")
