# Reference values for rechallenge.stats.coxanova from R survival 3.5 anova(coxph(...)).
#
# Run from the repository root:   Rscript tests/reference/cox_anova.R
# Writes tests/reference/fixtures/coxx_anova.json (veteran: trt, celltype factor, karno;
# lung with strata; Efron and Breslow).

suppressPackageStartupMessages(library(survival))
stopifnot(packageVersion("survival") >= "3.5")
source("tests/reference/json_writer.R")

tab <- function(fit) {
  a <- anova(fit)
  list(term = rownames(a), loglik = a$loglik, chisq = a$Chisq, df = a$Df, p = a[["Pr(>|Chi|)"]])
}
v <- read.csv("tests/reference/data/cox_veteran.csv")
l <- survival::lung[complete.cases(survival::lung[, c("time", "status", "age", "sex", "ph.ecog")]), ]
l <- data.frame(time = l$time, event = l$status - 1, age = l$age, sex = l$sex, ecog = l$ph.ecog,
                inst2 = ifelse(is.na(l$inst) | l$inst < 10, "lo", "hi"))
out <- list()
for (ties in c("efron", "breslow")) {
  out[[paste0("veteran_", ties)]] <- tab(coxph(Surv(time, event) ~ trt + celltype + karno, data = v, ties = ties))
  out[[paste0("lung_", ties)]] <- tab(coxph(Surv(time, event) ~ age + sex + ecog + strata(inst2), data = l, ties = ties))
}
out$lung_data <- list(time = l$time, event = l$event, age = l$age, sex = l$sex, ecog = l$ecog, inst2 = l$inst2)
writeLines(to_json(out), "tests/reference/fixtures/coxx_anova.json")
