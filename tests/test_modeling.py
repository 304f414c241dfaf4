import torch

from quotestance.labels import SENTIMENT_LABELS, STANCE_LABELS
from quotestance.modeling import IGNORE_INDEX, QuoteStanceConfig, QuoteStanceModel, build_model, joint_loss


def test_config_round_trips_label_maps(tmp_path):
    model = build_model("tiny-random-bert")
    model.config.stance_labels = ["neutral", "pro-presence", "pro-withdrawal"]
    model.save_pretrained(tmp_path)
    loaded = QuoteStanceConfig.from_pretrained(tmp_path)
    assert loaded.stance_labels == ["neutral", "pro-presence", "pro-withdrawal"]
    assert loaded.sentiment_labels == list(SENTIMENT_LABELS)
    assert loaded.model_type == "quotestance"


def test_default_label_order_comes_from_labels_module():
    config = QuoteStanceConfig()
    assert config.stance_labels == list(STANCE_LABELS)
    assert config.labels_for("sentiment") == list(SENTIMENT_LABELS)


def test_masked_loss_trains_only_the_labeled_head():
    torch.manual_seed(0)
    logits = {"stance": torch.randn(4, 3), "sentiment": torch.randn(4, 3)}
    stance = torch.tensor([0, 2, IGNORE_INDEX, 1])
    sentiment = torch.full((4,), IGNORE_INDEX)
    loss = joint_loss(logits, {"stance": stance, "sentiment": sentiment}, {}, {})
    expected = torch.nn.functional.cross_entropy(logits["stance"][[0, 1, 3]], stance[[0, 1, 3]])
    assert torch.allclose(loss, expected)


def test_fully_masked_batch_gives_zero_not_nan():
    logits = {"stance": torch.randn(2, 3), "sentiment": torch.randn(2, 3)}
    masked = torch.full((2,), IGNORE_INDEX)
    loss = joint_loss(logits, {"stance": masked, "sentiment": masked}, {}, {})
    assert float(loss) == 0.0


def test_loss_weights_scale_each_head():
    logits = {"stance": torch.randn(3, 3), "sentiment": torch.randn(3, 3)}
    labels = {"stance": torch.tensor([0, 1, 2]), "sentiment": torch.tensor([2, 1, 0])}
    single = joint_loss(logits, labels, {}, {"stance": 1.0, "sentiment": 0.0})
    double = joint_loss(logits, labels, {}, {"stance": 2.0, "sentiment": 0.0})
    assert torch.allclose(double, 2 * single)


def test_forward_returns_both_heads_and_gradients_reach_encoder():
    model = build_model("tiny-random-bert")
    ids = torch.randint(0, 100, (2, 7))
    out = model(input_ids=ids, attention_mask=torch.ones_like(ids), stance=torch.tensor([0, 1]),
                sentiment=torch.tensor([IGNORE_INDEX, 2]))
    assert out.stance_logits.shape == (2, 3) and out.sentiment_logits.shape == (2, 3)
    out.loss.backward()
    assert model.bert.embeddings.word_embeddings.weight.grad is not None


def test_save_load_gives_identical_logits(tmp_path):
    model = build_model("tiny-random-bert").eval()
    model.save_pretrained(tmp_path)
    assert (tmp_path / "model.safetensors").is_file()
    loaded = QuoteStanceModel.from_pretrained(tmp_path).eval()
    ids = torch.randint(0, 100, (3, 9))
    mask = torch.ones_like(ids)
    assert torch.equal(model(input_ids=ids, attention_mask=mask).stance_logits,
                       loaded(input_ids=ids, attention_mask=mask).stance_logits)
