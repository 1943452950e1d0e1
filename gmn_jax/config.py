"""One frozen model config with the paper's defaults (REFERENCE.md, "Model").

The config is hashable so it can be a static argument of `jax.jit`.
"""
import dataclasses

MATCHING_KINDS = ("attention", "average", "none")
DECODER_INPUTS = ("joint", "split", "plain")
SIMILARITIES = ("dot", "cosine")
PSEUDO_VISIBILITIES = ("always", "empty_set")
KEY_KINDS = ("learned", "features")
GRU_INPUTS = ("read", "read_and_state")

IMAGE_SHAPE = (28, 28)
NUM_PIXELS = 28 * 28
FEATURE_DIM = 3 * 3 * 32  # psi's output: the prototype of a conditioning image.


@dataclasses.dataclass(frozen=True)
class Config:
  """What distinguishes the models of the paper's Table 1.

  matching: "attention" (full matching, Appendix B), "average" (the paper's
    *avg* models: the mean of the prototypes, one controller update) or
    "none" (the VAE baseline: standard-normal prior, no conditioning).
  pseudo_input: a learned extra memory slot, so that t = 0 has a prediction.
    False gives the paper's *conditional* models.
  pseudo_visible: which queries see the pseudo-input: "always" (REFERENCE.md)
    or "empty_set", an ablation: only t = 0, as in the authors' public code
    with --no-dummy (sbos/gmn one_shot.py), their conditional models.
  latent_dim, state_dim, match_dim: sizes of z, of the controller state h and
    of the matching space.
  num_passes: K, attention passes of the controller shared by the generative
    and recognition models.
  prior_passes: K of the data-dependent prior's own controller.
  decoder_input: how the generator's first layer reads [z, r, h]. "joint"
    (the default, what the conditional rows and the VAE use): one
    weight-normalised matrix with one scalar gain and a PReLU, so z shares
    the matrix's norm with the 488 read-out inputs. "split", an ablation: z
    and [r, h] through matrices normalised apart, each with its own gain,
    summed. It tested whether the joint norm starves z (the trained joint
    matrix gives z a third of the VAE's weight norm): over 5k steps it
    trained like "joint" (results/ablations/README.md).
    "plain": one affine map with neither weight normalisation nor the PReLU
    after it, as REFERENCE.md's "affine to 3x3x32" and the authors' public
    code (sbos/gmn, one_shot.py: an He-normal Affine with no activation).
    Over the whole schedule it is better than "joint" at every cell of
    Table 1: gmn_c2 by 0.4-1.2 nats, avg_c1 by ~0.9, avg_c2 by 0.2-0.5,
    avg_c2_conditional by 0.5-0.6 (results/ablations/README.md), and those
    four flagfiles use it; the other rows keep "joint" until they are
    retrained (the default stays, so their params and run configs load
    unchanged).
  similarity: what the attention's softmax scales by the strength: "dot",
    the dot product of query and key (REFERENCE.md), or "cosine", their
    cosine (the authors' public code, sbos/gmn scg/recurrent.py Attention,
    divides by both norms), an ablation: at 11,875 steps ~1 nat better at
    t = 0 on test episodes, 4.7 worse at t = 19 (results/ablations/README.md).
  keys: what the queries are matched against. "learned" (REFERENCE.md): keys
    g(x) = PReLU(affine(psi(x))) in a match_dim space, and a learned
    pseudo-input key. "features", an ablation: the 288-d prototypes psi(x)
    themselves (the pseudo-input's key is its prototype) and queries of 288
    dims, as in the authors' public code (sbos/gmn utils.py,
    SetRepresentation: attention over the memory of features).
  gru_input: what the controller's GRU reads after each pass. "read"
    (REFERENCE.md): the read-out r, h <- GRU(h, r). "read_and_state", an
    ablation: [r, h], as in the authors' public code (sbos/gmn utils.py,
    SetRepresentation: cell(input=concat([r, state]), state=state)), which
    gives the candidate a path from h that the reset gate does not scale.
  encoder_ink: the value of an ink pixel in the images psi reads. 1 (this
    project's convention: data.load_split inverts the stored arrays). 0, an
    ablation: psi reads 1 - x, the arrays as the authors store and feed them
    (background = 1; sbos/gmn one_shot.py). The Bernoulli likelihood of x is
    the same either way, as REFERENCE.md says; psi's zero padding, biases and
    activations are not symmetric under the inversion, so training need not
    be. Queries and scores stay in ink = 1. On avg_c1 through 8,000 steps it
    trained 1.2-2.9 nats worse and scored ~1 nat worse on test
    (results/ablations/README.md, avg_c1_encoder_ink0).
  """
  matching: str = "attention"
  pseudo_input: bool = True
  latent_dim: int = 50
  state_dim: int = 200
  match_dim: int = 200
  num_passes: int = 4
  prior_passes: int = 1
  decoder_input: str = "joint"
  similarity: str = "dot"
  pseudo_visible: str = "always"
  keys: str = "learned"
  gru_input: str = "read"
  encoder_ink: int = 1

  def __post_init__(self):
    if self.matching not in MATCHING_KINDS:
      raise ValueError(
          f"Config.matching={self.matching!r} is unknown; expected one of "
          f"{MATCHING_KINDS}.")
    if self.similarity not in SIMILARITIES:
      raise ValueError(
          f"Config.similarity={self.similarity!r} is unknown; expected one "
          f"of {SIMILARITIES}.")
    if self.decoder_input not in DECODER_INPUTS:
      raise ValueError(
          f"Config.decoder_input={self.decoder_input!r} is unknown; expected "
          f"one of {DECODER_INPUTS}.")
    if self.pseudo_visible not in PSEUDO_VISIBILITIES:
      raise ValueError(
          f"Config.pseudo_visible={self.pseudo_visible!r} is unknown; "
          f"expected one of {PSEUDO_VISIBILITIES}.")
    if self.keys not in KEY_KINDS:
      raise ValueError(
          f"Config.keys={self.keys!r} is unknown; expected one of "
          f"{KEY_KINDS}.")
    if self.gru_input not in GRU_INPUTS:
      raise ValueError(
          f"Config.gru_input={self.gru_input!r} is unknown; expected one of "
          f"{GRU_INPUTS}.")
    if self.encoder_ink not in (0, 1):
      raise ValueError(
          f"Config.encoder_ink={self.encoder_ink!r} must be 1 (ink = 1, this "
          "project's images) or 0 (the authors' stored arrays).")
    if self.pseudo_visible != "always" and not self.pseudo_input:
      raise ValueError(
          f"Config.pseudo_visible={self.pseudo_visible!r} needs a pseudo-input "
          "slot; use pseudo_input=True.")
    for name in ("latent_dim", "state_dim", "match_dim", "num_passes",
                 "prior_passes"):
      if int(getattr(self, name)) < 1:
        raise ValueError(
            f"Config.{name}={getattr(self, name)} must be a positive integer.")
    if self.matching == "none" and not self.pseudo_input:
      raise ValueError(
          "Config(matching='none') is the VAE baseline: it has no memory, so "
          "pseudo_input=False (a 'conditional' model) has no meaning; use "
          "pseudo_input=True.")

  @property
  def conditioned(self) -> bool:
    """Whether the model reads a conditioning set at all."""
    return self.matching != "none"

  @property
  def readout_dim(self) -> int:
    """Size of [r, h], what a matcher hands to the prior, q and the decoder."""
    return FEATURE_DIM + self.state_dim if self.conditioned else 0

  @property
  def key_dim(self) -> int:
    """Size of the attention's keys and queries."""
    return FEATURE_DIM if self.keys == "features" else self.match_dim

  def to_dict(self) -> dict:
    return dataclasses.asdict(self)

  @classmethod
  def from_dict(cls, d: dict) -> "Config":
    known = {f.name for f in dataclasses.fields(cls)}
    unknown = set(d) - known
    if unknown:
      raise ValueError(f"Unknown Config fields {sorted(unknown)}; known: "
                       f"{sorted(known)}.")
    return cls(**d)


def first_scored_step(config: Config, num_classes: int) -> int:
  """The first t whose conditional enters the objective and the tables.

  Conditional models (no pseudo-input) never predict with fewer than C
  examples (REFERENCE.md), so their scoring starts at t = C.
  """
  return 0 if config.pseudo_input else num_classes
