# Reference values for counting-process data (start, stop] from R survival 3.5:
# survfit(Surv(start, stop, event) ~ g) and coxph(Surv(start, stop, event) ~ x).
#
# Run from the repository root:   Rscript tests/reference/counting.R
# Writes tests/reference/fixtures/cp_counting.json with the rows of each case.
# Cases: a tiny set worked by hand, Stanford heart transplant (time-varying
# transplant status, R's `heart`), generated delayed entry with whole-day ties, strata
# and a covariate that changes within subject.

suppressPackageStartupMessages(library(survival))
stopifnot(packageVersion("survival") >= "3.5")
source("tests/reference/json_writer.R")

km_case <- function(name, d, group = NULL) {
  f <- if (is.null(group)) survfit(Surv(start, stop, event) ~ 1, data = d)
       else survfit(as.formula(paste("Surv(start, stop, event) ~", group)), data = d)
  strata <- if (is.null(f$strata)) rep("all", length(f$time))
            else rep(sub(".*=", "", names(f$strata)), f$strata)
  tab <- summary(f)$table
  tab <- if (is.null(dim(tab))) t(as.matrix(tab)) else tab
  list(name = scalar(name), group = if (is.null(group)) NULL else scalar(group),
       start = d$start, stop = d$stop, event = d$event,
       labels = if (is.null(group)) NULL else as.character(d[[group]]),
       curve = strata, time = f$time, n_risk = f$n.risk, n_event = f$n.event,
       n_censor = f$n.censor, surv = f$surv, std_err = f$std.err,
       lower = f$lower, upper = f$upper,
       median = unname(tab[, "median"]), median_lower = unname(tab[, "0.95LCL"]),
       median_upper = unname(tab[, "0.95UCL"]), records = unname(tab[, "records"]))
}

cox_case <- function(name, d, covs, strata = NULL) {
  rhs <- paste(covs, collapse = " + ")
  if (!is.null(strata)) rhs <- paste0(rhs, " + strata(", strata, ")")
  out <- list(name = scalar(name), covariates = covs, strata = if (is.null(strata)) NULL else scalar(strata),
              start = d$start, stop = d$stop, event = d$event,
              x = lapply(covs, function(v) d[[v]]),
              strata_col = if (is.null(strata)) NULL else as.character(d[[strata]]))
  for (ties in c("efron", "breslow")) {
    fit <- coxph(as.formula(paste("Surv(start, stop, event) ~", rhs)), data = d, ties = ties)
    out[[ties]] <- list(coef = unname(coef(fit)), var = as.vector(fit$var), loglik = fit$loglik,
                        score = scalar(unname(fit$score)), wald = scalar(unname(fit$wald.test)),
                        iter = scalar(fit$iter), n = scalar(fit$n), events = scalar(fit$nevent))
  }
  out
}

tiny <- data.frame(start = c(0, 0, 2, 1, 3, 0, 5), stop = c(4, 3, 6, 5, 8, 2, 9),
                   event = c(1, 0, 1, 1, 0, 1, 1))

h <- survival::heart
h$transplant <- as.numeric(as.character(h$transplant))

set.seed(5)
n <- 200
entry <- round(runif(n, 0, 10))
len1 <- round(rexp(n, 0.1)) + 1
cut <- entry + pmax(1, round(len1 / 2))
ev <- rbinom(n, 1, 0.7)
z <- round(rnorm(n), 1)
grp <- sample(c("a", "b"), n, TRUE)
str <- sample(c("s1", "s2"), n, TRUE)
# each subject: (entry, cut] with x = 0, then (cut, entry + len1] with x = 1 if longer
one <- data.frame(start = entry, stop = pmin(cut, entry + len1), event = ifelse(cut >= entry + len1, ev, 0),
                  x = 0, z = z, g = grp, s = str)
two_rows <- cut < entry + len1
two <- data.frame(start = cut[two_rows], stop = (entry + len1)[two_rows], event = ev[two_rows],
                  x = 1, z = z[two_rows], g = grp[two_rows], s = str[two_rows])
gen <- rbind(one, two)

writeLines(to_json(list(
  survival = scalar(as.character(packageVersion("survival"))),
  km = list(km_case("tiny", tiny), km_case("heart", h, "transplant"), km_case("gen", gen, "g")),
  cox = list(cox_case("heart", h, c("age", "year", "surgery", "transplant")),
             cox_case("gen", gen, c("x", "z")),
             cox_case("gen_strata", gen, c("x", "z"), strata = "s"))
)), "tests/reference/fixtures/cp_counting.json")
