import { Body, Controller, Get, HttpCode, Param, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Roles } from '../identity/decorators/roles.decorator.js';
import { CurrentActor } from '../identity/decorators/current-actor.decorator.js';
import type { Actor } from '../identity/actor.js';
import { ModelRegistry, type ModelView } from './registry.service.js';
import { TrainingService, type TrainingJobView } from './training.service.js';
import { NlpService } from './nlp.service.js';
import { ActivateDto, EvaluateDto, ImportPackDto, PredictDto, StartTrainingDto } from './dto/nlp.dto.js';
import type { Annotation } from './annotator.js';
import type { EvalReport } from './metrics.js';

@ApiTags('nlp')
@ApiBearerAuth()
@Controller('api/v1/nlp')
export class NlpController {
  constructor(
    private readonly registry: ModelRegistry,
    private readonly training: TrainingService,
    private readonly nlp: NlpService,
  ) {}

  @Get('models')
  @Roles('admin', 'supervisor')
  @ApiOperation({ summary: 'Every registered model version, newest first per name' })
  async models(): Promise<{ items: ModelView[]; live: Record<string, string> }> {
    return { items: await this.registry.list(), live: this.registry.liveVersions() };
  }

  @Post('models/import')
  @Roles('admin')
  @HttpCode(201)
  @ApiOperation({
    summary:
      'Register a model pack made by another tool (docs/nlp.md, "the contract for external packs"), from a directory under <dataDir>/nlp/import; 400 nlp_invalid_pack with the reason when it does not follow the contract',
  })
  importPack(@Body() body: ImportPackDto, @CurrentActor() actor?: Actor): Promise<ModelView> {
    return this.registry.importPack(body.directory, actor?.id ?? null, { activate: body.activate });
  }

  @Post('models/:name/activate')
  @Roles('admin')
  @HttpCode(200)
  @ApiOperation({ summary: 'Activate a version; every instance hot-swaps to it' })
  activate(@Param('name') name: string, @Body() body: ActivateDto, @CurrentActor() actor?: Actor): Promise<ModelView> {
    return this.registry.activate(name, body.version, actor?.id ?? null);
  }

  @Post('models/:name/rollback')
  @Roles('admin')
  @HttpCode(200)
  @ApiOperation({ summary: 'Re-activate the version that was active before the current one' })
  rollback(@Param('name') name: string, @CurrentActor() actor?: Actor): Promise<ModelView> {
    return this.registry.rollback(name, actor?.id ?? null);
  }

  @Post('models/:name/evaluate')
  @Roles('admin', 'supervisor')
  @HttpCode(200)
  @ApiOperation({ summary: 'Accuracy, macro-F1, per-class report and confusions on labelled examples' })
  evaluate(@Param('name') name: string, @Body() body: EvaluateDto): Promise<EvalReport> {
    return this.training.evaluate(name, body.version, body.examples);
  }

  @Post('training-jobs')
  @Roles('admin')
  @HttpCode(202)
  @ApiOperation({ summary: 'Train a model pack in a worker thread; poll the job for progress' })
  startJob(@Body() body: StartTrainingDto, @CurrentActor() actor?: Actor): Promise<TrainingJobView> {
    return this.training.start(body, actor?.id ?? null);
  }

  @Get('training-jobs')
  @Roles('admin', 'supervisor')
  async jobs(): Promise<{ items: TrainingJobView[] }> {
    return { items: await this.training.list() };
  }

  @Get('training-jobs/:id')
  @Roles('admin', 'supervisor')
  @ApiOperation({ summary: 'Status and progress (phase, percent, epoch, loss, validationAccuracy, etaMs)' })
  job(@Param('id') id: string): Promise<TrainingJobView> {
    return this.training.get(id);
  }

  @Post('training-jobs/:id/cancel')
  @Roles('admin')
  @HttpCode(200)
  cancel(@Param('id') id: string): Promise<TrainingJobView> {
    return this.training.cancel(id);
  }

  @Post('annotate')
  @Roles('admin', 'supervisor', 'agent', 'integrator')
  @HttpCode(200)
  @ApiOperation({ summary: 'Language, intent, emotion and entities of a text (nothing is stored)' })
  annotate(@Body() body: PredictDto): Promise<Annotation> {
    return this.nlp.annotate(body.text, { scope: body.scope });
  }
}
