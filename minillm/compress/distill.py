"""Knowledge distillation: train a small student to match a large teacher's whole distribution.

A hard label says only which token came next; the teacher's distribution also says which other
tokens were plausible, and how much ("dark knowledge", Hinton et al., 2015). Softening both
distributions with a temperature T > 1 brings those small probabilities out. The loss mixes the
two signals:

    loss = alpha * T^2 * KL(softmax(teacher / T) || softmax(student / T))
           + (1 - alpha) * CE(student, hard labels)

The T^2 keeps the soft term's gradients the same size as T changes (they shrink as 1/T^2).
Both terms are means over the positions whose target is not ``ignore_index`` (-100), so prompt
tokens masked out for SFT are masked out of distillation too.

``distillation_loss_fn`` plugs into ``minillm.train.Trainer``: the teacher is frozen, in eval mode
and run under ``torch.no_grad``; only the student learns.

    loss_fn = distillation_loss_fn(teacher, temperature=2.0, alpha=0.5)
    history = Trainer(student, TrainConfig(max_steps=200), batches, loss_fn=loss_fn).fit()
"""

from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F


def distillation_loss(student_logits: torch.Tensor, teacher_logits: torch.Tensor,
                      targets: torch.Tensor | None = None, temperature: float = 2.0,
                      alpha: float = 0.5, ignore_index: int = -100) -> torch.Tensor:
    """The mixed soft/hard loss above. Logits are (..., vocab); ``targets`` (...) token ids, or
    None with ``alpha=1`` (pure distillation over every position)."""
    if temperature <= 0:
        raise ValueError(f"temperature must be > 0 (1 = the plain distributions), got {temperature}")
    if not 0 <= alpha <= 1:
        raise ValueError(f"alpha must be in [0, 1] (the weight of the teacher term), got {alpha}")
    if student_logits.shape != teacher_logits.shape:
        raise ValueError(f"student and teacher logits differ in shape ({tuple(student_logits.shape)} "
                         f"vs {tuple(teacher_logits.shape)}): they must share the vocabulary")
    vocab = student_logits.shape[-1]
    student = student_logits.float().reshape(-1, vocab)
    teacher = teacher_logits.detach().float().reshape(-1, vocab)
    if targets is None:
        if alpha != 1:
            raise ValueError("without targets only the teacher term exists: pass alpha=1")
        keep = torch.ones(student.shape[0], dtype=torch.bool, device=student.device)
    else:
        targets = targets.reshape(-1)
        if targets.shape[0] != student.shape[0]:
            raise ValueError(f"targets have {targets.shape[0]} positions, logits {student.shape[0]}")
        keep = targets != ignore_index
    if not bool(keep.any()):
        raise ValueError("every target is ignore_index: no position to learn from")
    loss = student.new_zeros(())
    if alpha > 0:
        log_p_student = F.log_softmax(student[keep] / temperature, dim=-1)
        log_p_teacher = F.log_softmax(teacher[keep] / temperature, dim=-1)
        kl = F.kl_div(log_p_student, log_p_teacher, log_target=True, reduction="batchmean")
        loss = loss + alpha * temperature ** 2 * kl
    if alpha < 1:
        loss = loss + (1 - alpha) * F.cross_entropy(student[keep], targets[keep])
    return loss


def freeze(model: nn.Module) -> nn.Module:
    """Eval mode and no gradients: a teacher that cannot change."""
    model.eval()
    for p in model.parameters():
        p.requires_grad_(False)
    return model


def distillation_loss_fn(teacher: nn.Module, temperature: float = 2.0, alpha: float = 0.5,
                         ignore_index: int = -100):
    """A ``loss_fn(student, batch)`` for ``Trainer`` on ``(x, y)`` batches. The teacher is frozen
    here (moved to the batch's device on first use)."""
    if temperature <= 0 or not 0 <= alpha <= 1:
        raise ValueError(f"need temperature > 0 and 0 <= alpha <= 1, got {temperature}, {alpha}")
    freeze(teacher)

    def loss_fn(student, batch):
        x, y = batch
        if next(teacher.parameters()).device != x.device:
            teacher.to(x.device)
        with torch.no_grad():
            teacher_logits, _ = teacher(x)
        student_logits, _ = student(x)
        return distillation_loss(student_logits, teacher_logits, y, temperature, alpha,
                                 ignore_index)

    return loss_fn
