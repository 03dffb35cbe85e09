using System.Text.Json.Nodes;

namespace RdBridge.Metadata;

/// <summary>
/// The dataset a model was trained on: Qlib's dataset class, its handler and the train/valid/test segments.
/// </summary>
public sealed record DatasetConfig(string? Class, string? ModulePath, string? Handler, JsonNode? Segments)
{
    /// <summary>The dataset's other kwargs as the run used them (<c>step_len</c> of a <c>TSDatasetH</c>).</summary>
    public JsonNode? Kwargs { get; init; }

    public JsonObject ToJson() => new()
    {
        ["class"] = Class,
        ["module_path"] = ModulePath,
        ["handler"] = Handler,
        ["segments"] = MetadataJson.Copy(Segments),
        ["kwargs"] = MetadataJson.Copy(Kwargs),
    };

    public static DatasetConfig? From(JsonNode? node) => node is JsonObject o
        ? new DatasetConfig(MetadataJson.Text(o["class"]), MetadataJson.Text(o["module_path"]),
            MetadataJson.Text(o["handler"]), MetadataJson.Copy(o["segments"]))
        {
            Kwargs = MetadataJson.Copy(o["kwargs"]),
        }
        : null;
}

/// <summary>The handler's processors as the config lists them (inference and learning).</summary>
public sealed record PreprocessConfig(JsonNode? InferProcessors, JsonNode? LearnProcessors)
{
    public JsonObject ToJson() => new()
    {
        ["infer_processors"] = MetadataJson.Copy(InferProcessors),
        ["learn_processors"] = MetadataJson.Copy(LearnProcessors),
    };

    public static PreprocessConfig? From(JsonNode? node) => node is JsonObject o
        ? new PreprocessConfig(MetadataJson.Copy(o["infer_processors"]), MetadataJson.Copy(o["learn_processors"]))
        : null;
}

/// <summary>
/// The features the model receives: the base features by name, whether generated factors are added, and whether the
/// config told them all (<c>complete</c> false with the <c>reason</c> where a handler or loader hides them in code).
/// </summary>
public sealed record FeatureSchema(
    IReadOnlyList<string> BaseFeatures, bool LoadsGeneratedFactors, bool? Complete = null, string? Reason = null)
{
    public JsonObject ToJson()
    {
        var o = new JsonObject
        {
            ["base_features"] = MetadataJson.TextArray(BaseFeatures),
            ["loads_generated_factors"] = LoadsGeneratedFactors,
        };
        if (Complete is not null)
        {
            o["complete"] = Complete;
            o["reason"] = Reason;
        }
        return o;
    }

    public static FeatureSchema? From(JsonNode? node) => node is JsonObject o
        ? new FeatureSchema(MetadataJson.Texts(o["base_features"]),
            MetadataJson.Bool(o["loads_generated_factors"]) ?? false, MetadataJson.Bool(o["complete"]),
            MetadataJson.Text(o["reason"]))
        : null;
}

/// <summary>
/// Where the trained model is: weights files (relative to the workspace), the MLflow store, the model code.
/// </summary>
public sealed record ModelArtifacts(IReadOnlyList<string> ModelFiles, string? MlRuns, string? ModelCode)
{
    public JsonObject ToJson() => new()
    {
        ["model_files"] = MetadataJson.TextArray(ModelFiles),
        ["mlruns"] = MlRuns,
        ["model_code"] = ModelCode,
    };

    public static ModelArtifacts? From(JsonNode? node) => node is JsonObject o
        ? new ModelArtifacts(MetadataJson.Texts(o["model_files"]), MetadataJson.Text(o["mlruns"]),
            MetadataJson.Text(o["model_code"]))
        : null;
}

/// <summary>
/// The <c>ModelTask</c> RD-Agent proposed and coded for a model loop: its name, description, formulation,
/// architecture, variables, hyperparameters (and training hyperparameters where the log has them) and RD-Agent's own
/// model type (<c>TimeSeries</c>, <c>Tabular</c>, …), kept exactly as logged.
/// </summary>
public sealed record ModelTaskText(
    string? Name, string? Description, string? Formulation, string? Architecture, JsonNode? Variables,
    JsonNode? Hyperparameters, JsonNode? TrainingHyperparameters, string? ModelType)
{
    /// <summary>CoSTEER's last word on the model's code (its <c>evolving feedback</c>); null where the log has none.
    /// </summary>
    public CoderFeedback? CoderFeedback { get; init; }

    public JsonObject ToJson()
    {
        var o = new JsonObject
        {
            ["name"] = Name,
            ["description"] = Description,
            ["formulation"] = Formulation,
            ["architecture"] = Architecture,
            ["variables"] = MetadataJson.Copy(Variables),
            ["hyperparameters"] = MetadataJson.Copy(Hyperparameters),
            ["training_hyperparameters"] = MetadataJson.Copy(TrainingHyperparameters),
            ["model_type"] = ModelType,
        };
        if (CoderFeedback is not null) o["coder_feedback"] = CoderFeedback.ToJson();
        return o;
    }

    public static ModelTaskText? From(JsonNode? node) => node is JsonObject o
        ? new ModelTaskText(MetadataJson.Text(o["name"]), MetadataJson.Text(o["description"]),
            MetadataJson.Text(o["formulation"]), MetadataJson.Text(o["architecture"]),
            MetadataJson.Copy(o["variables"]),
            MetadataJson.Copy(o["hyperparameters"]), MetadataJson.Copy(o["training_hyperparameters"]),
            MetadataJson.Text(o["model_type"]))
        {
            CoderFeedback = CoderFeedback.From(o["coder_feedback"]),
        }
        : null;
}

/// <summary>
/// <c>model_meta.json</c>: the model a loop trained, with what it was trained on and where its weights are.
/// </summary>
public sealed record ModelMetaFile(
    MetadataOrigin Origin, string? ConfigFile, string? ModelType, string? ModelModule, JsonNode? ModelConfig,
    string? NetworkClass, DatasetConfig? DatasetConfig, PreprocessConfig? PreprocessConfig,
    FeatureSchema? FeatureSchema, ModelArtifacts? ModelArtifacts)
{
    public const string FileName = "model_meta.json";
    /// <summary>The model a factor loop trains to test its factors: the template's fixed model.</summary>
    public const string Baseline = "baseline";
    /// <summary>The model a model loop proposed.</summary>
    public const string Proposed = "proposed";

    /// <summary>The rule that chose <see cref="ConfigFile"/> (see the README's "What RdBridge reads").</summary>
    public string? ConfigSource { get; init; }
    /// <summary>The MLflow run everything here was taken from.</summary>
    public string? RunId { get; init; }
    /// <summary><c>baseline</c> or <c>proposed</c>.</summary>
    public string? Role { get; init; }
    /// <summary>What the run's logged params changed in the rendered template.</summary>
    public IReadOnlyList<string> ParamsApplied { get; init; } = [];
    /// <summary>RD-Agent's model type of the loop's <c>ModelTask</c> (<c>TimeSeries</c>, <c>Tabular</c>);
    /// <see cref="ModelType"/> keeps the Qlib model class for compatibility.</summary>
    public string? RdAgentModelType => ModelTask?.ModelType;
    /// <summary>The loop's <c>ModelTask</c> as logged; null for a factor loop's baseline model.</summary>
    public ModelTaskText? ModelTask { get; init; }

    public JsonObject ToJson()
    {
        var o = Origin.NewObject();
        o["config_file"] = ConfigFile;
        o["config_source"] = ConfigSource;
        o["run_id"] = RunId;
        o["role"] = Role;
        o["model_type"] = ModelType;
        o["model_module"] = ModelModule;
        o["model_config"] = MetadataJson.Copy(ModelConfig);
        o["network_class"] = NetworkClass;
        o["dataset_config"] = DatasetConfig?.ToJson();
        o["preprocess_config"] = PreprocessConfig?.ToJson();
        o["feature_schema"] = FeatureSchema?.ToJson();
        o["model_artifacts"] = ModelArtifacts?.ToJson();
        o["params_applied"] = MetadataJson.TextArray(ParamsApplied);
        o["rdagent_model_type"] = RdAgentModelType;
        o["model_task"] = ModelTask?.ToJson();
        return o;
    }

    public static ModelMetaFile From(JsonObject o) => new(MetadataOrigin.From(o), MetadataJson.Text(o["config_file"]),
        MetadataJson.Text(o["model_type"]), MetadataJson.Text(o["model_module"]), MetadataJson.Copy(o["model_config"]),
        MetadataJson.Text(o["network_class"]), DatasetConfig.From(o["dataset_config"]),
        PreprocessConfig.From(o["preprocess_config"]), FeatureSchema.From(o["feature_schema"]),
        ModelArtifacts.From(o["model_artifacts"]))
    {
        ConfigSource = MetadataJson.Text(o["config_source"]),
        RunId = MetadataJson.Text(o["run_id"]),
        Role = MetadataJson.Text(o["role"]),
        ParamsApplied = MetadataJson.Texts(o["params_applied"]),
        ModelTask = ModelTaskText.From(o["model_task"]),
    };

    public static ModelMetaFile Read(string path) => From(MetadataJson.ReadObject(path));
}
